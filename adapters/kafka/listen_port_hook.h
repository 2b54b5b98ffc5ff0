// Choosing the embedded broker's port (kafka.embedded_port). librdkafka's mock cluster binds
// each broker's listener to 127.0.0.1:0 while rd_kafka_mock_cluster_new runs, and has no way
// to ask for a port. While a ListenPortRequest lives, the `malpro` program's bind() (which
// interposes libc's: adapters/cli/listen_port_hook.cc) gives the next such IPv4 loopback
// bind the requested ports in turn, with SO_REUSEADDR, so that a restart gets its port back.
// Programs without that bind() (the test binaries) ignore the request; EmbeddedBroker checks
// the port it got.
#pragma once

#include <cstdint>

namespace malpro {

class ListenPortRequest {
 public:
  // Asks for port, port + 1, ... for this thread's next `count` binds to 127.0.0.1:0; port 0
  // asks for nothing.
  ListenPortRequest(int port, int count);
  ~ListenPortRequest();
  ListenPortRequest(const ListenPortRequest&) = delete;
  ListenPortRequest& operator=(const ListenPortRequest&) = delete;
};

// For the bind() hook: the port this thread's next loopback bind to port 0 should get, and
// counts it off; 0 when none is asked for.
int TakeRequestedListenPort();

}  // namespace malpro

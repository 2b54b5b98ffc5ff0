#include "adapters/kafka/listen_port_hook.h"

namespace malpro {
namespace {

// Per thread: rd_kafka_mock_cluster_new binds its listeners on the thread that calls it, so
// no other thread's bind (the HTTP server's, on another port 0) can take the ports.
thread_local int next_port = 0;
thread_local int remaining = 0;

}  // namespace

ListenPortRequest::ListenPortRequest(int port, int count) {
  next_port = port;
  remaining = port == 0 ? 0 : count;
}

ListenPortRequest::~ListenPortRequest() {
  next_port = 0;
  remaining = 0;
}

int TakeRequestedListenPort() {
  if (remaining == 0) return 0;
  --remaining;
  return next_port++;
}

}  // namespace malpro

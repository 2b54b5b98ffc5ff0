// bind() for the `malpro` program: libc's, except while the embedded broker starts with
// kafka.embedded_port (adapters/kafka/listen_port_hook.h), when a bind of an IPv4 socket to
// 127.0.0.1:0 gets the port asked for, with SO_REUSEADDR. Linked into the program only, so
// that it interposes libc's bind for librdkafka, which calls it.
#include "adapters/kafka/listen_port_hook.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

extern "C" int bind(int fd, const struct sockaddr* address, socklen_t length) noexcept {
  using Bind = int (*)(int, const struct sockaddr*, socklen_t);
  static const Bind libc_bind = reinterpret_cast<Bind>(dlsym(RTLD_NEXT, "bind"));
  if (address != nullptr && address->sa_family == AF_INET &&
      length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in wanted;
    std::memcpy(&wanted, address, sizeof wanted);
    if (wanted.sin_port == 0 && wanted.sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
      if (const int port = malpro::TakeRequestedListenPort(); port != 0) {
        wanted.sin_port = htons(static_cast<uint16_t>(port));
        const int on = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        return libc_bind(fd, reinterpret_cast<const sockaddr*>(&wanted), sizeof wanted);
      }
    }
  }
  return libc_bind(fd, address, length);
}

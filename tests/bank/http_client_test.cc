// The bank client over TLS against a real TLS server on 127.0.0.1 (openssl s_server with a
// certificate made for the test): the chain and the host name are verified.
#include "adapters/bank/http_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "tests/support/temp_dir.h"

namespace malpro {
namespace {

// A port nobody listens on right now.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

class TlsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = dir_.Sub("cert.pem");
    const std::string key = dir_.Sub("key.pem");
    const std::string make =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost -keyout " +
        key + " -out " + cert_ + " > /dev/null 2>&1";
    ASSERT_EQ(std::system(make.c_str()), 0);
    port_ = FreePort();
    server_ = fork();
    ASSERT_GE(server_, 0);
    if (server_ == 0) {
      execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept",
             std::to_string(port_).c_str(), "-cert", cert_.c_str(), "-key", key.c_str(),
             static_cast<char*>(nullptr));
      _exit(127);
    }
    // Wait (bounded) until it accepts.
    for (int i = 0; i < 100; ++i) {
      HttpEndpoint probe{"127.0.0.1", std::to_string(port_), "", false, ""};
      Result<HttpReply> reply = SendHttp(probe, "GET", "/", {}, "", 200);
      if (reply.ok() || reply.status().error_code() != "bank_unreachable" ||
          reply.status().message().find("refused") == std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  void TearDown() override {
    if (server_ > 0) {
      kill(server_, SIGKILL);
      waitpid(server_, nullptr, 0);
    }
  }

  testing::TempDir dir_;
  std::string cert_;
  int port_ = 0;
  pid_t server_ = -1;
};

TEST_F(TlsClientTest, AnHttpsUrlIsParsedWithItsDefaultPort) {
  Result<HttpEndpoint> endpoint = ParseHttpUrl("https://bank.example/snap", "bank.base_url");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_TRUE(endpoint->tls);
  EXPECT_EQ(endpoint->port, "443");
  EXPECT_EQ(endpoint->path_prefix, "/snap");
  EXPECT_FALSE(ParseHttpUrl("ftp://bank.example", "bank.base_url").ok());
}

TEST_F(TlsClientTest, ATrustedCertificateForTheHostIsAnswered) {
  HttpEndpoint endpoint{"localhost", std::to_string(port_), "", true, cert_};
  Result<HttpReply> reply = SendHttp(endpoint, "GET", "/", {}, "", 5000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200);
  EXPECT_NE(reply->body.find("s_server"), std::string::npos);  // openssl's status page
}

TEST_F(TlsClientTest, AnUntrustedCertificateOrAnotherHostNameIsRefused) {
  HttpEndpoint untrusted{"localhost", std::to_string(port_), "", true, ""};  // system CAs
  Result<HttpReply> reply = SendHttp(untrusted, "GET", "/", {}, "", 5000);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().error_code(), "bank_unreachable");
  EXPECT_NE(reply.status().message().find("https://localhost"), std::string::npos);

  HttpEndpoint other_name{"127.0.0.1", std::to_string(port_), "", true, cert_};
  reply = SendHttp(other_name, "GET", "/", {}, "", 5000);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().error_code(), "bank_unreachable");

  HttpEndpoint missing_ca{"localhost", std::to_string(port_), "", true, dir_.Sub("none.pem")};
  reply = SendHttp(missing_ca, "GET", "/", {}, "", 5000);
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.status().message().find("cannot load the CAs"), std::string::npos);
}

}  // namespace
}  // namespace malpro

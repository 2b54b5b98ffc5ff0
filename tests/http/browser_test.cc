// What browsers use, over real sockets: sign-in sessions with CSRF tokens, CORS, the console's
// files, and live feeds resumed with Last-Event-ID at any byte, inside the snapshot or after.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "adapters/http/console_files.h"
#include "adapters/http/session.h"
#include "tests/support/api_server.h"

namespace malpro {
namespace {

using boost::beast::http::verb;
using testing::kNip;
using testing::Reply;

constexpr char kDashboardOrigin[] = "https://dasbor.malangkota.example";

class BrowserTest : public testing::ApiServerTest {
 protected:
  void SetUp() override {
    const std::filesystem::path console = dir_.Sub("console");
    std::filesystem::create_directories(console / "node_modules" / "x");
    std::ofstream(console / "index.html") << "<!doctype html><title>Malpro</title>";
    std::ofstream(console / "app.js") << "export const x = 1;";
    std::ofstream(console / "node_modules" / "x" / "x.js") << "secret";
    std::ofstream(console / "package.json") << "{}";
    console_ = std::move(ConsoleFiles::Load(console.string())).value();
    add_dependencies_ = [this](ApiDependencies& dependencies) {
      dependencies.sessions = &sessions_;
      dependencies.console = console_.get();
      dependencies.cors_origins = {kDashboardOrigin};
    };
    Start(HttpOptions{});
  }

  // Signs in with `token`; the cookie's "name=value" and the session's CSRF token.
  std::pair<std::string, std::string> SignIn(const std::string& token) {
    Reply reply = Call(verb::post, "/v1/session", R"({"token":")" + token + R"("})", {});
    EXPECT_EQ(reply.status, 201) << reply.body;
    const std::string cookie = reply.headers["Set-Cookie"];
    const std::string csrf_key = "\"csrf_token\":\"";
    const size_t at = reply.body.find(csrf_key) + csrf_key.size();
    return {cookie.substr(0, cookie.find(';')), reply.body.substr(at, 32)};
  }

  static std::string ErrorCodeOf(const Reply& reply) {
    const std::string key = "\"code\":\"";
    const size_t at = reply.body.find(key);
    if (at == std::string::npos) return "";
    return reply.body.substr(at + key.size(),
                             reply.body.find('"', at + key.size()) - at - key.size());
  }

  SessionTable sessions_;
  std::unique_ptr<ConsoleFiles> console_;
};

TEST_F(BrowserTest, ATokenBecomesAnHttpOnlyStrictCookieThatAuthenticatesReads) {
  Reply reply = Call(verb::post, "/v1/session", R"({"token":"t-operator"})", {});
  ASSERT_EQ(reply.status, 201) << reply.body;
  const std::string cookie = reply.headers["Set-Cookie"];
  EXPECT_TRUE(cookie.starts_with("malpro_session=")) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; Max-Age=28800"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << cookie;
  EXPECT_NE(reply.body.find(R"("role":"operator","subject":"rina")"), std::string::npos);
  const std::string jar = cookie.substr(0, cookie.find(';'));
  EXPECT_EQ(Call(verb::get, "/v1/stats", "", {}, {{"Cookie", "a=b; " + jar}}).status, 200);
  EXPECT_EQ(Call(verb::get, "/v1/stats", "", {}).status, 401);
  Reply session = Call(verb::get, "/v1/session", "", {}, {{"Cookie", jar}});
  EXPECT_EQ(session.status, 200);
  EXPECT_NE(session.body.find("\"csrf_token\""), std::string::npos);
  // The role still decides: an asn's session may not read another's spend.
  auto [asn_jar, asn_csrf] = SignIn("t-asn");
  EXPECT_EQ(Call(verb::get, "/v1/stats", "", {}, {{"Cookie", asn_jar}}).status, 403);
  // Behind a proxy that terminates TLS, the cookie is Secure.
  Reply secure = Call(verb::post, "/v1/session", R"({"token":"t-auditor"})", {},
                      {{"X-Forwarded-Proto", "https"}});
  EXPECT_NE(secure.headers["Set-Cookie"].find("; Secure"), std::string::npos);
}

TEST_F(BrowserTest, ABadSignInNamesWhatIsWrongAndOpensNoSession) {
  Reply wrong = Call(verb::post, "/v1/session", R"({"token":"nope"})", {});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.headers.count("Set-Cookie"), 0u);
  Reply missing = Call(verb::post, "/v1/session", "{}", {});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(ErrorCodeOf(missing), "body_field_missing");
  EXPECT_NE(missing.body.find(R"("field":"token")"), std::string::npos) << missing.body;
  EXPECT_EQ(Call(verb::post, "/v1/session", R"({"token":"t-admin","x":1})", {}).status, 400);
  EXPECT_EQ(Call(verb::get, "/v1/session", "", {}, {{"Cookie", "malpro_session=abc"}}).status, 401);
  EXPECT_EQ(Call(verb::get, "/v1/stats", "", {}, {{"Cookie", "malpro_session=abc"}}).status, 401);
}

TEST_F(BrowserTest, AWriteWithTheCookieNeedsTheCsrfTokenOrNothingIsWritten) {
  auto [jar, csrf] = SignIn("t-admin");
  const std::string body =
      R"({"nip":")" + std::string(kNip) +
      R"(","name":"Siti","agency":"Diskominfo","rank_class":"III/a","kelurahan":"Kauman"})";
  const uint64_t head = log_->Head().sequence;
  for (const std::map<std::string, std::string>& headers :
       {std::map<std::string, std::string>{{"Cookie", jar}},
        {{"Cookie", jar}, {"X-CSRF-Token", (csrf[0] == '0' ? "1" : "0") + csrf.substr(1)}},
        {{"Cookie", jar}, {"X-CSRF-Token", ""}}}) {
    Reply refused = Call(verb::post, "/v1/asn", body, {}, headers);
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_EQ(ErrorCodeOf(refused), "csrf_token_invalid");
    EXPECT_NE(refused.body.find(R"("field":"X-CSRF-Token")"), std::string::npos);
  }
  EXPECT_EQ(log_->Head().sequence, head);
  // Another session's CSRF token is not this one's.
  auto [other_jar, other_csrf] = SignIn("t-admin");
  EXPECT_EQ(
      Call(verb::post, "/v1/asn", body, {}, {{"Cookie", jar}, {"X-CSRF-Token", other_csrf}}).status,
      403);
  EXPECT_EQ(log_->Head().sequence, head);
  EXPECT_EQ(Call(verb::post, "/v1/asn", body, {}, {{"Cookie", jar}, {"X-CSRF-Token", csrf}}).status,
            201);
  EXPECT_GT(log_->Head().sequence, head);
}

TEST_F(BrowserTest, SigningOutNeedsTheCsrfTokenThenTheCookieIsDead) {
  auto [jar, csrf] = SignIn("t-operator");
  EXPECT_EQ(Call(verb::delete_, "/v1/session", "", {}, {{"Cookie", jar}}).status, 403);
  EXPECT_EQ(Call(verb::get, "/v1/stats", "", {}, {{"Cookie", jar}}).status, 200);
  Reply out = Call(verb::delete_, "/v1/session", "", {}, {{"Cookie", jar}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(out.headers["Set-Cookie"].find("malpro_session=; "), std::string::npos);
  EXPECT_NE(out.headers["Set-Cookie"].find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Call(verb::get, "/v1/stats", "", {}, {{"Cookie", jar}}).status, 401);
  EXPECT_EQ(Call(verb::get, "/v1/session", "", {}, {{"Cookie", jar}}).status, 401);
}

TEST(SessionTableTest, SessionsExpireAndTheOldestGoWhenFull) {
  SessionTable expired({.ttl_seconds = 0, .sessions_max = 10, .cookie_secure = false});
  auto [id, info] = expired.Open({Role::kOperator, "rina"}, Sha256("t-rina"));
  EXPECT_FALSE(expired.Find(id).has_value());
  SessionTable small({.ttl_seconds = 3600, .sessions_max = 2, .cookie_secure = true});
  const std::string first = small.Open({Role::kOperator, "a"}, Sha256("t-a")).first;
  const std::string second = small.Open({Role::kOperator, "b"}, Sha256("t-b")).first;
  const std::string third = small.Open({Role::kOperator, "c"}, Sha256("t-c")).first;
  EXPECT_EQ(small.Find(third)->principal.subject, "c");
  EXPECT_EQ(static_cast<int>(small.Find(first).has_value()) +
                static_cast<int>(small.Find(second).has_value()),
            1);
  EXPECT_TRUE(small.Close(third));
  EXPECT_FALSE(small.Find(third).has_value());
  EXPECT_NE(small.SetCookie("x", false).find("; Secure"), std::string::npos);
  EXPECT_EQ(SessionTable::CookieValue("a=1; malpro_session=abc; b=2"), "abc");
  EXPECT_EQ(SessionTable::CookieValue("malpro_sessionx=abc"), "");
}

TEST(SessionTableTest, ReloadedTokensCloseTheSessionsOfTokensNoLongerThere) {
  TokenTable tokens;
  ASSERT_TRUE(tokens.Add(HashToHex(Sha256("kept")), {Role::kOperator, "kept"}, "t").ok());
  ASSERT_TRUE(tokens.Add(HashToHex(Sha256("revoked")), {Role::kAdmin, "gone"}, "t").ok());
  SessionTable sessions;
  const std::string kept = sessions.Open({Role::kOperator, "kept"}, Sha256("kept")).first;
  const std::string revoked = sessions.Open({Role::kAdmin, "gone"}, Sha256("revoked")).first;
  EXPECT_EQ(sessions.CloseRevoked(tokens), 0u);
  TokenTable next;
  ASSERT_TRUE(next.Add(HashToHex(Sha256("kept")), {Role::kOperator, "kept"}, "t").ok());
  ASSERT_TRUE(next.Add(HashToHex(Sha256("new")), {Role::kAdmin, "new"}, "t").ok());
  tokens.ReplaceWith(next);
  EXPECT_TRUE(tokens.Authenticate("Bearer new").ok());
  EXPECT_FALSE(tokens.Authenticate("Bearer revoked").ok());
  EXPECT_EQ(sessions.CloseRevoked(tokens), 1u);
  EXPECT_TRUE(sessions.Find(kept).has_value());
  EXPECT_FALSE(sessions.Find(revoked).has_value());
}

TEST_F(BrowserTest, CorsIsForTheConfiguredOriginsOnly) {
  Reply preflight = Call(verb::options, "/v1/compliance/2026-10", "", {},
                         {{"Origin", kDashboardOrigin}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_NE(preflight.headers["Access-Control-Allow-Headers"].find("Authorization"),
            std::string::npos);
  EXPECT_EQ(preflight.headers["Access-Control-Allow-Origin"], kDashboardOrigin);
  Reply other = Call(verb::options, "/v1/stats", "", {}, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(ErrorCodeOf(other), "cors_origin_refused");
  EXPECT_EQ(other.headers.count("Access-Control-Allow-Origin"), 0u);
  Reply read = Call(verb::get, "/v1/stats", "", Role::kAuditor, {{"Origin", kDashboardOrigin}});
  EXPECT_EQ(read.headers["Access-Control-Allow-Origin"], kDashboardOrigin);
  EXPECT_EQ(read.headers.count("Access-Control-Allow-Credentials"), 0u);
  Reply evil =
      Call(verb::get, "/v1/stats", "", Role::kAuditor, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(evil.status, 200);
  EXPECT_EQ(evil.headers.count("Access-Control-Allow-Origin"), 0u);
}

TEST_F(BrowserTest, TheConsoleIsItsFilesOnly) {
  Reply index = Call(verb::get, "/", "", {});
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>Malpro</title>");
  EXPECT_EQ(index.headers["Content-Type"], "text/html; charset=utf-8");
  EXPECT_NE(index.headers["Content-Security-Policy"].find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(index.headers["X-Content-Type-Options"], "nosniff");
  Reply script = Call(verb::get, "/console/app.js", "", {});
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.headers["Content-Type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(Call(verb::get, "/console/app.js", "", {}, {{"If-None-Match", script.headers["ETag"]}})
                .status,
            304);
  for (const char* hidden : {"/console/node_modules/x/x.js", "/console/package.json",
                             "/console/../CMakeLists.txt", "/console/", "/console/nope.js"}) {
    EXPECT_EQ(Call(verb::get, hidden, "", {}).status, 404) << hidden;
  }
  Reply post = Call(verb::post, "/", "", {});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["Allow"], "GET, HEAD");
}

TEST_F(BrowserTest, AnAuditorVerifiesTheChainAndAnyoneOfTheDeskReadsTheLastResult) {
  Reply none = Call(verb::get, "/v1/chain/verification", "", Role::kOperator);
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(ErrorCodeOf(none), "chain_verification_none");
  SeedAsn(kNip);
  EXPECT_EQ(Call(verb::post, "/v1/chain/verify", "", Role::kOperator).status, 403);
  auto [jar, csrf] = SignIn("t-auditor");
  EXPECT_EQ(Call(verb::post, "/v1/chain/verify", "", {}, {{"Cookie", jar}}).status, 403);
  Reply verified =
      Call(verb::post, "/v1/chain/verify", "", {}, {{"Cookie", jar}, {"X-CSRF-Token", csrf}});
  ASSERT_EQ(verified.status, 200) << verified.body;
  const std::string head = std::to_string(log_->Head().sequence);
  EXPECT_NE(verified.body.find(R"("ok":true)"), std::string::npos) << verified.body;
  EXPECT_NE(verified.body.find(R"("events_checked":)" + head), std::string::npos);
  EXPECT_NE(verified.body.find(HashToHex(log_->Head().hash)), std::string::npos);
  EXPECT_NE(verified.body.find(R"("by":"auditor:bpk")"), std::string::npos);
  Reply last = Call(verb::get, "/v1/chain/verification", "", Role::kOperator);
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(last.body, verified.body);
}

TEST_F(BrowserTest, AReadOnlyServerSignsInAndVerifiesButTakesNoWrites) {
  const auto add = add_dependencies_;
  add_dependencies_ = [add](ApiDependencies& dependencies) {
    add(dependencies);
    dependencies.read_only = "the ledger as it stood at sequence 0";
  };
  Start(HttpOptions{});
  auto [jar, csrf] = SignIn("t-admin");
  Reply session = Call(verb::get, "/v1/session", "", {}, {{"Cookie", jar}});
  EXPECT_NE(session.body.find(R"("read_only":"the ledger as it stood at sequence 0")"),
            std::string::npos)
      << session.body;
  EXPECT_EQ(Call(verb::post, "/v1/chain/verify", "", {}, {{"Cookie", jar}, {"X-CSRF-Token", csrf}})
                .status,
            200);
  Reply write = Call(verb::post, "/v1/asn", "{}", {}, {{"Cookie", jar}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(write.status, 405);
  EXPECT_EQ(ErrorCodeOf(write), "server_read_only");
}

// The events of a Server-Sent Events text that were dispatched (ended by a blank line), each
// as its fields; a cut event is dropped, as a browser drops it.
std::vector<std::map<std::string, std::string>> DispatchedEvents(const std::string& text) {
  std::vector<std::map<std::string, std::string>> events;
  size_t start = text.find("\r\n\r\n");
  start = start == std::string::npos ? text.size() : start + 4;
  while (true) {
    const size_t end = text.find("\n\n", start);
    if (end == std::string::npos) break;
    std::map<std::string, std::string> fields;
    std::string_view block(text.data() + start, end - start);
    while (!block.empty()) {
      const size_t line_end = std::min(block.find('\n'), block.size());
      std::string_view line = block.substr(0, line_end);
      block.remove_prefix(std::min(line_end + 1, block.size()));
      const size_t colon = line.find(": ");
      if (colon != std::string_view::npos && colon > 0) {
        fields[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 2));
      }
    }
    if (fields.contains("event")) events.push_back(std::move(fields));
    start = end + 2;
  }
  return events;
}

// Reads a subscription until `bytes_max` bytes, or until `enough` says the text suffices.
std::string ReadSubscription(uint16_t port, const std::string& last_event_id, size_t bytes_max,
                             const std::function<bool(const std::string&)>& enough,
                             const std::string& query = "") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&remote), sizeof(remote)), 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string request = "GET /v1/subscribe/projections?projection=asn_spend" + query +
                        " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-auditor\r\n";
  if (!last_event_id.empty()) request += "Last-Event-ID: " + last_event_id + "\r\n";
  request += "\r\n";
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string text;
  char buffer[4096];
  while (text.size() < bytes_max && !enough(text)) {
    const ssize_t got = ::recv(fd, buffer, std::min(sizeof(buffer), bytes_max - text.size()), 0);
    if (got <= 0) break;
    text.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  return text;
}

bool SnapshotEnded(const std::string& text) {
  return text.find("\nevent: position\n") != std::string::npos;
}

// A dashboard that follows asn_spend: cut at random bytes (in the snapshot or after it),
// reconnected with the last id it saw; meanwhile ASN register. It ends with every row, each
// key received once unless it changed after it was received, and the same rows as the API's.
TEST_F(BrowserTest, AFeedResumedAtRandomBytesDeliversEveryRowExactlyOnce) {
  // NIP: birth date, appointment month, sex, then a serial from 001.
  auto nip = [](const std::string& prefix, int serial) {
    return prefix + std::to_string(1000 + serial).substr(1);
  };
  for (int i = 1; i <= 40; ++i) SeedAsn(nip("198507122010012", i));
  ASSERT_TRUE(projector_->WaitForApplied(log_->Head().sequence, std::chrono::seconds(10)));
  const std::string whole = ReadSubscription(port(), "", 1 << 22, SnapshotEnded);
  ASSERT_TRUE(SnapshotEnded(whole));
  std::mt19937 random(20261203);
  for (int round = 0; round < 12; ++round) {
    const bool with_writes = round % 2 == 1;
    std::map<std::string, std::string> rows;  // key -> value, as the dashboard holds them
    std::map<std::string, int> received;      // key -> times received in snapshot rows
    std::string last_id;
    bool ended = false;
    for (int cut = 0; cut < 6 && !ended; ++cut) {
      const size_t bytes =
          cut == 5 ? (1u << 22)
                   : std::uniform_int_distribution<size_t>(40, whole.size() + 200)(random);
      const std::string text = ReadSubscription(port(), last_id, bytes, SnapshotEnded);
      for (const auto& event : DispatchedEvents(text)) {
        if (event.at("event") == "snapshot") rows.clear(), received.clear();
        if (event.at("event") == "row") {
          const std::string& data = event.at("data");
          const size_t key_at = data.find("\"key\":\"") + 7;
          const std::string key = data.substr(key_at, data.find('"', key_at) - key_at);
          rows[key] = data;
          received[key]++;
        }
        if (event.at("event") == "position") ended = true;
        if (event.contains("id")) last_id = event.at("id");
      }
      if (with_writes && !ended) {
        SeedAsn(nip("199001012015031", 1 + round * 10 + cut));
        ASSERT_TRUE(projector_->WaitForApplied(log_->Head().sequence, std::chrono::seconds(10)));
      }
    }
    ASSERT_TRUE(ended) << "round " << round;
    const auto [now_rows, position] = projector_->Snapshot("asn_spend");
    EXPECT_EQ(rows.size(), now_rows.size()) << "round " << round;
    for (const RowChange& row : now_rows) {
      ASSERT_TRUE(rows.contains(row.key)) << row.key;
      EXPECT_NE(rows[row.key].find(row.value), std::string::npos) << row.key;
      if (!with_writes) {
        EXPECT_EQ(received[row.key], 1) << "round " << round << " " << row.key;
      }
    }
  }
}

// An EventSource reconnects to the URL it opened, ?after= included: its Last-Event-ID, the
// newer position, wins.
TEST_F(BrowserTest, AReconnectResumesFromLastEventIdNotFromTheUrlsAfter) {
  SeedAsn(kNip);
  ASSERT_TRUE(projector_->WaitForApplied(log_->Head().sequence, std::chrono::seconds(10)));
  const std::string first = ReadSubscription(port(), "", 1 << 20, SnapshotEnded);
  const auto events = DispatchedEvents(first);
  ASSERT_FALSE(events.empty());
  const std::string position = events.back().at("id");
  ASSERT_EQ(events.back().at("event"), "position");
  SeedAsn(testing::kOtherNip);
  const auto has_new_row = [](const std::string& text) {
    return text.find(std::string("a/") + testing::kOtherNip) != std::string::npos;
  };
  const std::string resumed = ReadSubscription(port(), position, 1 << 20, has_new_row, "&after=0");
  EXPECT_TRUE(has_new_row(resumed)) << resumed;
  EXPECT_EQ(resumed.find("event: snapshot"), std::string::npos) << resumed;
  EXPECT_EQ(resumed.find(std::string("a/") + kNip), std::string::npos) << resumed;
}

}  // namespace
}  // namespace malpro

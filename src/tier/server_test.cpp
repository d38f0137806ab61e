#include "tier/server.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

#include "tier/mem_store.h"

namespace prescale::tier {
namespace {

// The API over in-memory tiers and an in-memory catalog, fed raw connections.
class InProcessServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.max_body_bytes = 16;
    cfg_.store.catalog_path = ":memory:";
    std::array<std::unique_ptr<ObjectStore>, 3> tiers;
    tiers[kRedis] = std::make_unique<MemStore>("redis");
    tiers[kDir] = std::make_unique<MemStore>("nvme");
    tiers[kS3] = std::make_unique<MemStore>("s3");
    auto s = TieredStore::open(cfg_.store, std::move(tiers));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    server_ = std::make_unique<InProcessServer>(cfg_, store_.get());
  }
  // "\n" in `lines` becomes CRLF.
  std::string serve(std::string lines) {
    std::string raw;
    for (char c : lines) raw += c == '\n' ? std::string("\r\n") : std::string(1, c);
    return server_->serve(raw);
  }

  TierConfig cfg_;
  std::unique_ptr<TieredStore> store_;
  std::unique_ptr<InProcessServer> server_;
};

TEST_F(InProcessServerTest, AnsweredRequestsMatchTheDocumentedStatusAndJsonErrors) {
  struct Case {
    const char* name;
    std::string request;
    std::string status_line;
    std::string body_part;  // "" = not checked
  };
  const Case cases[] = {
      {"a put is stored", "PUT /objects/a HTTP/1.1\nContent-Length: 2\n\nhi", "HTTP/1.1 204", ""},
      {"two Content-Length headers are refused",
       "PUT /objects/a HTTP/1.1\nContent-Length: 2\nContent-Length: 3\n\nhi", "HTTP/1.1 400",
       R"({"error":"expected one Content-Length header"})"},
      {"a body over the limit is refused before it is read",
       "PUT /objects/a HTTP/1.1\nContent-Length: 17\n\n", "HTTP/1.1 413", R"({"error":)"},
      {"a chunked body over the limit is refused while it is read",
       "PUT /objects/a HTTP/1.1\nTransfer-Encoding: chunked\n\n11\n" + std::string(17, 'x') +
           "\n0\n\n",
       "HTTP/1.1 413", R"({"error":)"},
      {"a negative Content-Length is refused", "PUT /objects/a HTTP/1.1\nContent-Length: -1\n\n",
       "HTTP/1.1 400", R"({"error":)"},
      {"a key over the escaped limit is a bad request",
       "PUT /objects/" + std::string(201, 'k') + " HTTP/1.1\nContent-Length: 1\n\nx",
       "HTTP/1.1 400", R"({"error":)"},
      {"a missing object is not found", "GET /objects/nothing HTTP/1.1\n\n", "HTTP/1.1 404",
       R"({"error":"no such object"})"},
      {"a known path with another method is not allowed", "PATCH /stats HTTP/1.1\n\n",
       "HTTP/1.1 405", R"({"error":"method PATCH not allowed here"})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string answer = serve(c.request);
    EXPECT_EQ(answer.rfind(c.status_line, 0), 0u) << answer;
    if (!c.body_part.empty()) {
      EXPECT_NE(answer.find(c.body_part), std::string::npos) << answer;
    }
  }
}

TEST_F(InProcessServerTest, KeepAliveRequestsOnOneConnectionAreServedInOrder) {
  const std::string answer = serve(
      "PUT /objects/k HTTP/1.1\nContent-Length: 5\n\nhello"
      "GET /objects/k HTTP/1.1\n\n"
      "GET /healthz HTTP/1.1\n\n");
  const auto put = answer.find("HTTP/1.1 204");
  const auto get = answer.find("HTTP/1.1 200", put);
  const auto body = answer.find("hello", get);
  const auto health = answer.find("ok\n", body);
  EXPECT_NE(put, std::string::npos) << answer;
  EXPECT_NE(get, std::string::npos) << answer;
  EXPECT_NE(body, std::string::npos) << answer;
  EXPECT_NE(health, std::string::npos) << answer;
}

}  // namespace
}  // namespace prescale::tier

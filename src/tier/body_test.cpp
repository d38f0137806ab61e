#include "tier/body.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "tier/codec.h"

namespace prescale::tier {
namespace {

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() % 7);  // compressible, not constant
  return out;
}

class BodyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("prescale-body-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Appends `data` in pieces of `piece` bytes.
  static void feed(Body& b, const std::string& data, size_t piece) {
    for (size_t i = 0; i < data.size(); i += piece)
      ASSERT_TRUE(b.append(std::string_view(data).substr(i, piece)).ok());
    ASSERT_TRUE(b.finish().ok());
  }
  static std::string read_all(const Body& b, size_t* pieces = nullptr) {
    std::string out;
    size_t n = 0;
    EXPECT_TRUE(b.read([&](std::string_view p) {
                   out.append(p);
                   ++n;
                   return core::Status::Ok();
                 }).ok());
    if (pieces) *pieces = n;
    return out;
  }
  std::string dir_;
};

TEST_F(BodyTest, AtItsLimitABodyStaysInMemory) {
  const std::string data = random_bytes(4096, 1);
  Body b(dir_ + "/spool", 4096);
  feed(b, data, 1000);
  EXPECT_FALSE(b.spooled());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/spool"));
  EXPECT_EQ(b.memory(), data);
  EXPECT_EQ(b.size(), data.size());
  EXPECT_EQ(b.sha256(), sha256_hex(data));
}

TEST_F(BodyTest, PastItsLimitABodyMovesToItsSpoolFileWhichGoesWithTheBody) {
  const std::string data = random_bytes(3 * Body::kPiece + 123, 2);
  {
    Body b(dir_ + "/spool", 4096);
    feed(b, data, 1000);
    ASSERT_TRUE(b.spooled());
    EXPECT_TRUE(b.memory().empty()) << "the bytes held before the move are released";
    EXPECT_EQ(std::filesystem::file_size(dir_ + "/spool"), data.size());
    EXPECT_EQ(b.size(), data.size());
    EXPECT_EQ(b.sha256(), sha256_hex(data)) << "the digest covers the bytes held and spooled";
    size_t pieces = 0;
    EXPECT_EQ(read_all(b, &pieces), data);
    EXPECT_EQ(pieces, 4u) << "read back in pieces of at most kPiece bytes";
    EXPECT_FALSE(b.append("x").ok()) << "a finished body takes no more bytes";
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/spool"));
}

TEST_F(BodyTest, WithoutASpoolPathEverythingStaysInMemory) {
  const std::string data = random_bytes(10'000, 3);
  Body b("", 16);
  feed(b, data, 999);
  EXPECT_FALSE(b.spooled());
  EXPECT_EQ(read_all(b), data);
}

TEST_F(BodyTest, ASpoolThatCannotBeCreatedIsAnErrorNamingIt) {
  Body b(dir_ + "/no-such-dir/spool", 4);
  auto st = b.append("more than four bytes");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no-such-dir/spool: cannot create the body's spool file"),
            std::string::npos)
      << st.message();
}

TEST_F(BodyTest, AViewBodyReadsItsStringInPlace) {
  const std::string data = random_bytes(777, 4);
  const Body b(data);
  EXPECT_TRUE(b.finished());
  EXPECT_EQ(&b.memory(), &data);
  EXPECT_EQ(b.sha256(), sha256_hex(data));
}

TEST(StreamCodec, PiecesCompressToWhatDecompressReadsForEveryCodec) {
  const std::string raw = random_bytes(2'500'000, 5);
  for (Codec c : {Codec::kNone, Codec::kZstd, Codec::kLz4}) {
    SCOPED_TRACE(std::string(to_string(c)));
    std::string stored;
    size_t calls = 0;
    StreamCompressor sc(c, raw.size(), [&](std::string_view p) {
      stored.append(p);
      ++calls;
      return core::Status::Ok();
    });
    for (size_t i = 0; i < raw.size(); i += 65'536)
      ASSERT_TRUE(sc.update(std::string_view(raw).substr(i, 65'536)).ok());
    ASSERT_TRUE(sc.finish().ok());
    EXPECT_EQ(sc.stored_bytes(), stored.size());
    auto back = decompress(c, stored, raw.size());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, raw);
    if (c == Codec::kZstd) {
      EXPECT_GT(calls, 1u) << "zstd hands its output on as it goes";
    }
    // As small as the one-shot compress() (lz4: the same bytes, it compresses the whole).
    EXPECT_LE(stored.size(), compress(c, raw).size() + compress(c, raw).size() / 100 + 64);
    if (c != Codec::kZstd) {
      EXPECT_EQ(stored, compress(c, raw));
    }
  }
}

// What the streamed read relies on to call a copy corrupt: a cut frame, bytes after it, more or
// fewer bytes than the catalog's size.
TEST(StreamCodec, ACutOrOversizedStoredValueIsAnErrorWhenDecompressedInPieces) {
  const std::string raw = random_bytes(300'000, 7);
  auto run = [&](Codec c, std::string stored, std::uint64_t size) {
    StreamDecompressor d(c, size, [](std::string_view) { return core::Status::Ok(); });
    for (size_t i = 0; i < stored.size(); i += 4096)
      if (auto st = d.update(std::string_view(stored).substr(i, 4096)); !st.ok()) return st;
    return d.finish();
  };
  const std::string z = compress(Codec::kZstd, raw);
  EXPECT_TRUE(run(Codec::kZstd, z, raw.size()).ok());
  EXPECT_FALSE(run(Codec::kZstd, z.substr(0, z.size() - 10), raw.size()).ok());
  EXPECT_FALSE(run(Codec::kZstd, z + "x", raw.size()).ok());
  EXPECT_FALSE(run(Codec::kZstd, z, raw.size() - 1).ok());
  EXPECT_FALSE(run(Codec::kNone, raw, raw.size() + 1).ok());
  EXPECT_FALSE(run(Codec::kLz4, compress(Codec::kLz4, raw).substr(1), raw.size()).ok());
}

TEST(StreamCodec, ASinkErrorStopsTheStream) {
  StreamCompressor sc(Codec::kNone, 3,
                      [](std::string_view) { return core::Status(core::Error{"disk full"}); });
  auto st = sc.update("abc");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "disk full");
}

TEST(StreamCodec, TheDigestOfPiecesIsTheDigestOfTheWhole) {
  const std::string raw = random_bytes(100'000, 6);
  Sha256 h;
  for (size_t i = 0; i < raw.size(); i += 4096) h.update(std::string_view(raw).substr(i, 4096));
  EXPECT_EQ(h.hex(), sha256_hex(raw));
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace prescale::tier

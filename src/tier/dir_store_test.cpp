#include "tier/dir_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace prescale::tier {
namespace {

std::string temp_dir(const char* tag) {
  auto d = std::filesystem::temp_directory_path() /
           (std::string("prescale-tier-") + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  return d.string();
}

TEST(TierDirStore, PutGetStatListDel) {
  const auto dir = temp_dir("basic");
  auto s = DirStore::open(dir);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE((*s)->put("a/b c", "hello").ok());
  ASSERT_TRUE((*s)->put("a/x", std::string(100000, 'x')).ok());
  ASSERT_TRUE((*s)->put("b", "").ok());
  auto g = (*s)->get("a/b c");
  ASSERT_TRUE(g.ok() && *g);
  EXPECT_EQ(**g, "hello");
  auto e = (*s)->get("b");
  ASSERT_TRUE(e.ok() && *e);
  EXPECT_EQ(**e, "");
  auto st = (*s)->stat("a/x");
  ASSERT_TRUE(st.ok() && *st);
  EXPECT_EQ((*st)->size, 100000u);
  auto l = (*s)->list("a/");
  ASSERT_TRUE(l.ok());
  std::sort(l->begin(), l->end());
  EXPECT_EQ(*l, (std::vector<std::string>{"a/b c", "a/x"}));
  ASSERT_TRUE((*s)->del("a/x").ok());
  ASSERT_TRUE((*s)->del("a/x").ok()) << "deleting a missing key is not an error";
  auto gone = (*s)->get("a/x");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(*gone);
  std::filesystem::remove_all(dir);
}

TEST(TierDirStore, NamesRoundTripAndNeverStartWithADot) {
  for (std::string key : {".hidden", "..", "a%b", "ü/\x01", "plain-key_1.2"}) {
    SCOPED_TRACE(key);
    const auto name = DirStore::encode_name(key);
    EXPECT_NE(name[0], '.');
    EXPECT_EQ(name.find('/'), std::string::npos);
    EXPECT_EQ(DirStore::decode_name(name), key);
  }
}

TEST(TierDirStore, AnOverwriteIsAtomicAndACrashedWritersTempFileIsCleanedUp) {
  const auto dir = temp_dir("atomic");
  auto s = DirStore::open(dir);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->put("k", "old").ok());
  // A writer killed between creating its temp file and the rename leaves exactly this.
  { std::ofstream(dir + "/.tmp-99999-0") << "new but torn"; }
  auto g = (*s)->get("k");
  ASSERT_TRUE(g.ok() && *g);
  EXPECT_EQ(**g, "old") << "readers never see the temp file";
  auto l = (*s)->list("");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, std::vector<std::string>{"k"});
  auto removed = (*s)->remove_temp_files();
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  ASSERT_TRUE((*s)->put("k", "new").ok());
  EXPECT_EQ(**(*s)->get("k"), "new");
  std::filesystem::remove_all(dir);
}

TEST(TierDirStore, RejectsBadKeysClearly) {
  const auto dir = temp_dir("bad");
  auto s = DirStore::open(dir);
  ASSERT_TRUE(s.ok());
  auto st = (*s)->put("", "x");
  EXPECT_NE(st.message().find("non-empty"), std::string::npos) << st.message();
  st = (*s)->put(std::string(300, '%'), "x");
  EXPECT_NE(st.message().find("too long"), std::string::npos) << st.message();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace prescale::tier

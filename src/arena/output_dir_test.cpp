#include "arena/output_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace prescale::arena {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / name;
  fs::remove_all(dir);
  return dir;
}

TEST(StagedFilesTest, NothingAppearsUnderTheRealNamesBeforeCommit) {
  const fs::path dir = fresh_dir("prescale_staged_commit");
  StagedFiles out(dir.string());
  ASSERT_TRUE(out.stage("a.csv", "1\n").ok());
  ASSERT_TRUE(out.stage("timelines/x.html", "<p>x</p>").ok());
  EXPECT_FALSE(fs::exists(dir / "a.csv"));
  EXPECT_TRUE(fs::exists(dir / "a.csv.tmp"));
  ASSERT_TRUE(out.commit().ok());
  EXPECT_EQ(read(dir / "a.csv"), "1\n");
  EXPECT_EQ(read(dir / "timelines" / "x.html"), "<p>x</p>");
  EXPECT_FALSE(fs::exists(dir / "a.csv.tmp"));
  EXPECT_FALSE(fs::exists(dir / "timelines" / "x.html.tmp"));
}

TEST(StagedFilesTest, AnAbandonedSetLeavesNoFileAndNoDirectoryItMade) {
  const fs::path dir = fresh_dir("prescale_staged_abandon");
  {
    StagedFiles out(dir.string());
    ASSERT_TRUE(out.stage("a.csv", "1\n").ok());
    ASSERT_TRUE(out.stage("timelines/x.html", "x").ok());
  }  // destroyed without commit: a failed run
  EXPECT_FALSE(fs::exists(dir));
}

TEST(StagedFilesTest, AnExistingDirectoryAndItsOtherFilesAreKept) {
  const fs::path dir = fresh_dir("prescale_staged_keep");
  fs::create_directories(dir);
  std::ofstream(dir / "results.csv") << "old\n";
  {
    StagedFiles out(dir.string());
    ASSERT_TRUE(out.stage("results.csv", "new\n").ok());
  }
  EXPECT_EQ(read(dir / "results.csv"), "old\n");
  EXPECT_FALSE(fs::exists(dir / "results.csv.tmp"));
}

TEST(StagedFilesTest, ADirectoryThatCannotBeCreatedIsNamedInTheError) {
  StagedFiles out("/proc/prescale-cannot-create");
  const core::Status st = out.stage("report.html", "x");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/proc/prescale-cannot-create"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace prescale::arena

// docs/quickstart.md against the files it describes (unit: files only). The quickstart's
// commands live in one script, examples/quickstart/quickstart.sh, which the doc quotes block
// by block; tests/quickstart_test.cpp runs that script against a real stack. Here: every
// quoted block is in the doc exactly as in the script, every `spark.prescale.*` setting the
// plugin's Java sources read is explained in the doc, and the example's controller agrees
// with the example's job on the facts they share.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kSource = PRESCALE_SOURCE_DIR;
const std::string kScript = kSource + "/examples/quickstart/quickstart.sh";
const std::string kDoc = kSource + "/docs/quickstart.md";

struct Block {
  std::string name;
  std::vector<std::string> lines;
};

// The blocks between `# --- docs/quickstart.md quotes from here (NAME) ---` and
// `# --- to here ---`.
std::vector<Block> quoted_blocks(const std::string& script) {
  static const std::regex begin(R"(^\s*# --- docs/quickstart\.md quotes from here \((\w+)\) ---$)");
  static const std::regex end(R"(^\s*# --- to here ---$)");
  std::vector<Block> blocks;
  bool in = false;
  std::istringstream lines(script);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, begin)) {
      EXPECT_FALSE(in) << "a block opens inside another: " << line;
      blocks.push_back({m[1], {}});
      in = true;
    } else if (std::regex_match(line, end)) {
      EXPECT_TRUE(in) << "a block closes that was not opened";
      in = false;
    } else if (in) {
      blocks.back().lines.push_back(line);
    }
  }
  EXPECT_FALSE(in) << "the last block is not closed";
  return blocks;
}

// A block as the doc shows it: the script's indentation removed, four spaces added (a
// Markdown code block).
std::string as_quoted(const Block& b) {
  size_t indent = std::string::npos;
  for (const auto& l : b.lines)
    if (l.find_first_not_of(' ') != std::string::npos)
      indent = std::min(indent, l.find_first_not_of(' '));
  std::string out;
  for (const auto& l : b.lines) out += "    " + (l.size() > indent ? l.substr(indent) : "") + "\n";
  return out;
}

TEST(QuickstartDoc, QuotesEveryStepOfTheScriptAsWritten) {
  const std::string doc = read_text(kDoc);
  ASSERT_FALSE(doc.empty()) << kDoc;
  const auto blocks = quoted_blocks(read_text(kScript));
  std::set<std::string> names;
  for (const auto& b : blocks) {
    names.insert(b.name);
    EXPECT_FALSE(b.lines.empty()) << b.name;
    EXPECT_NE(doc.find(as_quoted(b)), std::string::npos)
        << "docs/quickstart.md does not quote the script's block '" << b.name
        << "' as written; the script has:\n"
        << as_quoted(b);
    // Each step is also named as the command that runs it.
    EXPECT_NE(doc.find("examples/quickstart/quickstart.sh " + b.name), std::string::npos) << b.name;
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"build", "stack", "keys", "submit", "controller", "gateway"}));
  for (const std::string step : {"watch", "stop", "run"})
    EXPECT_NE(doc.find("examples/quickstart/quickstart.sh " + step), std::string::npos) << step;
}

TEST(QuickstartDoc, ExplainsEverySettingThePluginReads) {
  const std::string doc = read_text(kDoc);
  static const std::regex key(R"(spark\.prescale\.[A-Za-z0-9_.]*[A-Za-z0-9_])");
  std::set<std::string> keys;
  for (const auto& f :
       std::filesystem::recursive_directory_iterator(kSource + "/java/src/main/java")) {
    if (f.path().extension() != ".java") continue;
    const std::string text = read_text(f.path().string());
    for (std::sregex_iterator it(text.begin(), text.end(), key), e; it != e; ++it)
      keys.insert(it->str());
  }
  EXPECT_GE(keys.size(), 7u);  // bootstrap, the topics, the bounds, staleness, the delay
  EXPECT_TRUE(keys.count("spark.prescale.kafka.bootstrap"));
  for (const auto& k : keys)
    EXPECT_NE(doc.find("`" + k + "`"), std::string::npos)
        << k << " (read by the plugin's sources) is not explained in docs/quickstart.md";
  // And what the plugin needs from Spark and the cluster manager.
  for (const std::string k :
       {"spark.plugins", "spark.sql.streaming.streamingQueryListeners",
        "spark.dynamicAllocation.enabled", "spark.cores.max", "spark.executor.instances"})
    EXPECT_NE(doc.find("`" + k + "`"), std::string::npos) << k;
}

// "key: N" in the controller's YAML, "--conf spark.prescale.K=N" or "--flag N" in the script.
std::string first_match(const std::string& text, const std::string& pattern) {
  std::smatch m;
  const std::regex re(pattern, std::regex::multiline);
  return std::regex_search(text, m, re) ? m[1].str() : "";
}

TEST(QuickstartDoc, TheControllerAgreesWithTheJob) {
  const std::string yaml = read_text(kSource + "/examples/quickstart/controller.yaml");
  const std::string script = read_text(kScript);
  ASSERT_FALSE(yaml.empty());
  const auto yaml_int = [&](const std::string& k) {
    return first_match(yaml, "^" + k + ": (\\d+)");
  };
  EXPECT_EQ(yaml_int("min_executors"),
            first_match(script, R"(spark\.prescale\.minExecutors=(\d+))"));
  EXPECT_EQ(yaml_int("max_executors"),
            first_match(script, R"(spark\.prescale\.maxExecutors=(\d+))"));
  EXPECT_EQ(yaml_int("max_executors"), first_match(script, R"(spark\.cores\.max=(\d+))"));
  EXPECT_EQ(yaml_int("trigger_ms"), first_match(script, R"(--trigger-ms (\d+))"));
  // Standalone starts the job with spark.cores.max / spark.executor.cores (1) executors.
  EXPECT_EQ(yaml_int("initial_executors"), first_match(script, R"(spark\.cores\.max=(\d+))"));
  EXPECT_NE(yaml_int("min_executors"), "");
  // The addresses quickstart.sh replaces in its copy are there to be replaced.
  EXPECT_NE(yaml.find("bootstrap.servers: 127.0.0.1:9092"), std::string::npos);
  EXPECT_NE(yaml.find("\nkeys_file: "), std::string::npos);
  EXPECT_NE(yaml.find("port: 9464"), std::string::npos);
}

}  // namespace

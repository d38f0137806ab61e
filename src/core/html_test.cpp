#include "core/html.h"

#include <gtest/gtest.h>

namespace prescale::core {
namespace {

TEST(Html, EscapesWhatWouldEndAnElementOrAComment) {
  EXPECT_EQ(escape_html("a<b>&\"c\""), "a&lt;b&gt;&amp;&quot;c&quot;");
  EXPECT_EQ(script_safe(R"({"x":"</script><!--"})"), R"({"x":"\u003c/script>\u003c!--"})");
  EXPECT_EQ(comment_safe("a -- b --- c"), "a - - b - - - c");  // no "--" left
}

}  // namespace
}  // namespace prescale::core

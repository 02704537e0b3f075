#include "gthreadd/config/value_parsers.hpp"

#include <gtest/gtest.h>

#include "gthreadd/config/shell_split.hpp"

namespace gthreadd::config {
namespace {

TEST(ParseUmask, FollowsGunicornAutoInt) {
  EXPECT_EQ(parse_umask("0022"), 022);
  EXPECT_EQ(parse_umask("022"), 022);
  EXPECT_EQ(parse_umask("0o77"), 077);
  EXPECT_EQ(parse_umask("0x12"), 0x12);
  EXPECT_EQ(parse_umask("18"), 18);
  EXPECT_EQ(parse_umask("0"), 0);
  EXPECT_FALSE(parse_umask("08"));
  EXPECT_FALSE(parse_umask("abc"));
}

TEST(ParseBoolean, AcceptsTheIniSpellings) {
  for (const char* yes : {"true", "True", "YES", "on", "1", " yes "})
    EXPECT_EQ(parse_boolean(yes), true) << yes;
  for (const char* no : {"false", "No", "off", "0"}) EXPECT_EQ(parse_boolean(no), false) << no;
  EXPECT_FALSE(parse_boolean("maybe"));
  EXPECT_FALSE(parse_boolean(""));
}

TEST(ParseInteger, RejectsTrailingJunkAndOverflow) {
  EXPECT_EQ(parse_integer(" 42 "), 42);
  EXPECT_EQ(parse_integer("-3"), -3);
  EXPECT_FALSE(parse_integer("4x"));
  EXPECT_FALSE(parse_integer("99999999999999999999999"));
  EXPECT_FALSE(parse_integer(""));
}

TEST(SplitList, TrimsAndDropsEmptyItems) {
  EXPECT_EQ(split_list(" a, b,,c ,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_list("").empty());
}

TEST(ShellSplit, MatchesShlex) {
  EXPECT_EQ(shell_split(R"(-w 3  --bind=unix:/tmp/x 'a b' "c \"d\"" e\ f)"),
            (std::vector<std::string>{"-w", "3", "--bind=unix:/tmp/x", "a b", "c \"d\"", "e f"}));
  EXPECT_EQ(shell_split("  "), std::vector<std::string>{});
  EXPECT_EQ(shell_split(R"("a\nb")"), std::vector<std::string>{"a\\nb"});
  EXPECT_FALSE(shell_split("'open"));
  EXPECT_FALSE(shell_split("\"open"));
  EXPECT_FALSE(shell_split("trailing\\"));
}

}  // namespace
}  // namespace gthreadd::config

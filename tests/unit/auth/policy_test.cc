#include "auth/policy.h"

#include <gtest/gtest.h>

namespace scigate {
namespace {

std::map<std::string, CollectionConfig> collections() {
  std::map<std::string, CollectionConfig> c;
  c["nebraska_images"] = {
      "nebraska_images", "", "b", "p/", "local", {{"nebraska", {"thomas", "dliu"}}, {"image_stats", {"thomas"}}}};
  c["other"] = {"other", "", "b", "o/", "local", {{"image_stats", {"dliu"}}}};
  return c;
}

TEST(Policy, RunRequiresListingUnderThatWorkflowOfThatCollection) {
  auto cols = collections();
  Policy p(cols);
  EXPECT_TRUE(p.may_run("thomas", "image_stats", "nebraska_images"));
  EXPECT_TRUE(p.may_run("dliu", "nebraska", "nebraska_images"));
  // dliu may use nebraska_images (through nebraska) but not run image_stats on it: the
  // check the seed's Lambda forgot.
  EXPECT_TRUE(p.may_use_collection("dliu", "nebraska_images"));
  EXPECT_FALSE(p.may_run("dliu", "image_stats", "nebraska_images"));
  EXPECT_TRUE(p.may_run("dliu", "image_stats", "other"));
  EXPECT_FALSE(p.may_run("thomas", "image_stats", "other"));
  EXPECT_FALSE(p.may_run("thomas", "nebraska", "missing"));
}

TEST(Policy, Listings) {
  auto cols = collections();
  Policy p(cols);
  EXPECT_EQ(p.collections_for("dliu"), (std::vector<std::string>{"nebraska_images", "other"}));
  EXPECT_EQ(p.collections_for("thomas"), (std::vector<std::string>{"nebraska_images"}));
  EXPECT_TRUE(p.collections_for("mallory").empty());
  EXPECT_EQ(p.workflows_for("dliu"), (std::vector<std::string>{"image_stats", "nebraska"}));
  EXPECT_EQ(p.workflows_on("dliu", "nebraska_images"), (std::vector<std::string>{"nebraska"}));
  EXPECT_EQ(p.collections_for_workflow("dliu", "image_stats"), (std::vector<std::string>{"other"}));
}

}  // namespace
}  // namespace scigate

// Who may do what, derived from the catalog's collections (the seed's YAML):
// a user may use a collection if listed under any of its workflows, and may run workflow
// W on collection C only if listed under C.workflows.W. Immutable; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "catalog/config.h"

namespace scigate {

class Policy {
 public:
  explicit Policy(const std::map<std::string, CollectionConfig>& collections) : collections_(collections) {}

  bool may_use_collection(const std::string& user, const std::string& collection) const;
  bool may_run(const std::string& user, const std::string& workflow, const std::string& collection) const;
  // Sorted ids.
  std::vector<std::string> collections_for(const std::string& user) const;
  std::vector<std::string> workflows_for(const std::string& user) const;
  std::vector<std::string> workflows_on(const std::string& user, const std::string& collection) const;
  std::vector<std::string> collections_for_workflow(const std::string& user, const std::string& workflow) const;

 private:
  const std::map<std::string, CollectionConfig>& collections_;
};

}  // namespace scigate

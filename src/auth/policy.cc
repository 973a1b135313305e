#include "auth/policy.h"

#include <algorithm>
#include <set>

namespace scigate {

namespace {
bool listed(const std::vector<std::string>& users, const std::string& user) {
  return std::find(users.begin(), users.end(), user) != users.end();
}
}  // namespace

bool Policy::may_run(const std::string& user, const std::string& workflow, const std::string& collection) const {
  auto c = collections_.find(collection);
  if (c == collections_.end()) return false;
  auto w = c->second.authorized_users.find(workflow);
  return w != c->second.authorized_users.end() && listed(w->second, user);
}

bool Policy::may_use_collection(const std::string& user, const std::string& collection) const {
  return !workflows_on(user, collection).empty();
}

std::vector<std::string> Policy::workflows_on(const std::string& user, const std::string& collection) const {
  std::vector<std::string> out;
  auto c = collections_.find(collection);
  if (c == collections_.end()) return out;
  for (const auto& [wf, users] : c->second.authorized_users) {
    if (listed(users, user)) out.push_back(wf);
  }
  return out;  // std::map order: already sorted
}

std::vector<std::string> Policy::collections_for(const std::string& user) const {
  std::vector<std::string> out;
  for (const auto& [id, c] : collections_) {
    if (may_use_collection(user, id)) out.push_back(id);
  }
  return out;
}

std::vector<std::string> Policy::workflows_for(const std::string& user) const {
  std::set<std::string> out;
  for (const auto& [id, c] : collections_) {
    for (auto& wf : workflows_on(user, id)) out.insert(wf);
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> Policy::collections_for_workflow(const std::string& user, const std::string& workflow) const {
  std::vector<std::string> out;
  for (const auto& [id, c] : collections_) {
    if (may_run(user, workflow, id)) out.push_back(id);
  }
  return out;
}

}  // namespace scigate

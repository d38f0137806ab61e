// An in-memory ObjectStore for tests: a map behind a mutex, with a switch that makes every
// call fail as if the server were down.
#pragma once

#include <atomic>
#include <map>
#include <mutex>

#include "tier/object_store.h"

namespace prescale::tier {

class MemStore : public ObjectStore {
 public:
  explicit MemStore(std::string name = "mem") : name_(std::move(name)) {}
  core::Status put(const std::string& key, const std::string& data) override {
    if (down) return core::Error{name_ + ": down"};
    std::lock_guard<std::mutex> lock(mu_);
    m_[key] = data;
    return core::Status::Ok();
  }
  core::Result<std::optional<std::string>> get(const std::string& key) override {
    if (down) return core::Error{name_ + ": down"};
    std::lock_guard<std::mutex> lock(mu_);
    auto it = m_.find(key);
    if (it == m_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  core::Status del(const std::string& key) override {
    if (down) return core::Error{name_ + ": down"};
    std::lock_guard<std::mutex> lock(mu_);
    m_.erase(key);
    return core::Status::Ok();
  }
  core::Result<std::optional<ObjectInfo>> stat(const std::string& key) override {
    if (down) return core::Error{name_ + ": down"};
    std::lock_guard<std::mutex> lock(mu_);
    auto it = m_.find(key);
    if (it == m_.end()) return std::optional<ObjectInfo>();
    return std::optional<ObjectInfo>(ObjectInfo{key, it->second.size()});
  }
  core::Result<std::vector<std::string>> list(const std::string& prefix) override {
    if (down) return core::Error{name_ + ": down"};
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [k, v] : m_)
      if (k.compare(0, prefix.size(), prefix) == 0) out.push_back(k);
    return out;
  }
  std::string describe() const override { return name_; }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return m_.size();
  }

  std::atomic<bool> down{false};

 private:
  std::string name_;
  std::mutex mu_;
  std::map<std::string, std::string> m_;
};

}  // namespace prescale::tier

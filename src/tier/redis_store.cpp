#include "tier/redis_store.h"

#include <hiredis/hiredis.h>

#include <charconv>

namespace prescale::tier {

struct RedisStore::Reply {
  redisReply* r = nullptr;
  ~Reply() {
    if (r) freeReplyObject(r);
  }
};

namespace {

bool parse_int(std::string_view s, int* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Escapes glob metacharacters for SCAN MATCH.
std::string glob_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

core::Result<RedisAddress> parse_redis_url(const std::string& url) {
  const std::string scheme = "redis://";
  if (url.rfind(scheme, 0) != 0)
    return core::Error{"redis url '" + url + "': expected redis://[:password@]host[:port][/db]"};
  RedisAddress a;
  std::string rest = url.substr(scheme.size());
  const auto at = rest.rfind('@');
  if (at != std::string::npos) {
    const std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = cred.find(':');
    if (colon == std::string::npos) {
      a.password = cred;
    } else {
      a.user = cred.substr(0, colon);
      a.password = cred.substr(colon + 1);
    }
  }
  const auto slash = rest.find('/');
  if (slash != std::string::npos) {
    const std::string db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty() && (!parse_int(db, &a.db) || a.db < 0))
      return core::Error{"redis url: database '" + db + "': expected a number >= 0"};
  }
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos) {
    if (!parse_int(rest.substr(colon + 1), &a.port) || a.port < 1 || a.port > 65535)
      return core::Error{"redis url: port '" + rest.substr(colon + 1) + "': expected 1..65535"};
    rest = rest.substr(0, colon);
  }
  if (!rest.empty()) a.host = rest;
  return a;
}

core::Result<std::unique_ptr<RedisStore>> RedisStore::open(const RedisOptions& options) {
  auto a = parse_redis_url(options.url);
  if (!a.ok()) return a.error();
  if (!options.password.empty()) a->password = options.password;
  std::unique_ptr<RedisStore> s(new RedisStore(options, *a));
  {
    std::lock_guard<std::mutex> lock(s->mu_);
    auto st = s->connect_locked();
    // An authentication failure is a configuration error; an unreachable server is not.
    if (!st.ok() && st.message().find("AUTH") != std::string::npos) return st.error();
  }
  return s;
}

RedisStore::~RedisStore() {
  if (ctx_) redisFree(ctx_);
}

std::string RedisStore::describe() const {
  return "redis://" + addr_.host + ":" + std::to_string(addr_.port) + "/" +
         std::to_string(addr_.db);
}

core::Status RedisStore::connect_locked() {
  if (ctx_ && ctx_->err == 0) return core::Status::Ok();
  if (ctx_) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now < down_until_)
    return core::Error{describe() + ": unreachable (retrying after a short pause)"};
  timeval tv{opt_.connect_timeout_ms / 1000, (opt_.connect_timeout_ms % 1000) * 1000};
  redisContext* c = redisConnectWithTimeout(addr_.host.c_str(), addr_.port, tv);
  auto fail = [&](const std::string& what) -> core::Status {
    if (c) redisFree(c);
    down_until_ = now + std::chrono::milliseconds(opt_.retry_after_ms);
    return core::Error{describe() + ": " + what};
  };
  if (!c) return fail("cannot allocate a connection");
  if (c->err) return fail(std::string("cannot connect: ") + c->errstr);
  timeval ctv{opt_.command_timeout_ms / 1000, (opt_.command_timeout_ms % 1000) * 1000};
  redisSetTimeout(c, ctv);
  auto simple = [&](const std::vector<std::string>& argv, const std::string& what) -> std::string {
    std::vector<const char*> p;
    std::vector<size_t> l;
    for (const auto& s : argv) {
      p.push_back(s.data());
      l.push_back(s.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), p.data(), l.data()));
    if (!r) return what + ": " + c->errstr;
    std::string err = r->type == REDIS_REPLY_ERROR ? what + ": " + std::string(r->str, r->len) : "";
    freeReplyObject(r);
    return err;
  };
  if (!addr_.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!addr_.user.empty()) auth.push_back(addr_.user);
    auth.push_back(addr_.password);
    // The server's message never contains the password.
    if (auto e = simple(auth, "AUTH rejected"); !e.empty()) return fail(e);
  }
  if (addr_.db != 0) {
    if (auto e = simple({"SELECT", std::to_string(addr_.db)}, "SELECT"); !e.empty()) return fail(e);
  }
  ctx_ = c;
  return core::Status::Ok();
}

core::Result<std::unique_ptr<RedisStore::Reply>> RedisStore::command(
    const std::vector<std::string_view>& argv) {
  std::vector<const char*> p;
  std::vector<size_t> l;
  for (auto s : argv) {
    p.push_back(s.data());
    l.push_back(s.size());
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto st = connect_locked(); !st.ok()) return st.error();
    auto reply = std::make_unique<Reply>();
    reply->r = static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), p.data(), l.data()));
    if (reply->r) {
      if (reply->r->type == REDIS_REPLY_ERROR)
        return core::Error{describe() + ": " + std::string(argv[0]) + ": " +
                           std::string(reply->r->str, reply->r->len)};
      return reply;
    }
    const std::string err = ctx_->errstr;
    redisFree(ctx_);
    ctx_ = nullptr;
    if (attempt == 1) return core::Error{describe() + ": " + std::string(argv[0]) + ": " + err};
  }
  return core::Error{describe() + ": unreachable"};
}

core::Status RedisStore::put(const std::string& key, const std::string& data) {
  if (auto st = check_key(key); !st.ok()) return st;
  auto r = command({"SET", key, data});
  if (!r.ok()) return r.error();
  return core::Status::Ok();
}

core::Status RedisStore::put_many(
    const std::vector<std::pair<std::string, const std::string*>>& items) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto st = connect_locked(); !st.ok()) return st;
  for (const auto& [k, v] : items) {
    const char* p[3] = {"SET", k.data(), v->data()};
    size_t l[3] = {3, k.size(), v->size()};
    redisAppendCommandArgv(ctx_, 3, p, l);
  }
  core::Status result;
  for (size_t i = 0; i < items.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK) {
      const std::string err = ctx_->errstr;
      redisFree(ctx_);
      ctx_ = nullptr;
      return core::Error{describe() + ": SET: " + err};
    }
    auto* r = static_cast<redisReply*>(raw);
    if (r->type == REDIS_REPLY_ERROR && result.ok())
      result = core::Error{describe() + ": SET: " + std::string(r->str, r->len)};
    freeReplyObject(r);
  }
  return result;
}

core::Result<std::optional<std::string>> RedisStore::get(const std::string& key) {
  if (auto st = check_key(key); !st.ok()) return st.error();
  auto r = command({"GET", key});
  if (!r.ok()) return r.error();
  const redisReply* x = (*r)->r;
  if (x->type == REDIS_REPLY_NIL) return std::optional<std::string>();
  if (x->type != REDIS_REPLY_STRING)
    return core::Error{describe() + ": GET " + key + ": not a string value"};
  return std::optional<std::string>(std::string(x->str, x->len));
}

core::Status RedisStore::del(const std::string& key) {
  if (auto st = check_key(key); !st.ok()) return st;
  auto r = command({"DEL", key});
  if (!r.ok()) return r.error();
  return core::Status::Ok();
}

core::Result<std::optional<ObjectInfo>> RedisStore::stat(const std::string& key) {
  if (auto st = check_key(key); !st.ok()) return st.error();
  auto e = command({"EXISTS", key});
  if (!e.ok()) return e.error();
  if ((*e)->r->integer == 0) return std::optional<ObjectInfo>();
  auto n = command({"STRLEN", key});
  if (!n.ok()) return n.error();
  return std::optional<ObjectInfo>(ObjectInfo{key, static_cast<std::uint64_t>((*n)->r->integer)});
}

core::Result<std::vector<std::string>> RedisStore::list(const std::string& prefix) {
  std::vector<std::string> out;
  const std::string match = glob_escape(prefix) + "*";
  std::string cursor = "0";
  do {
    auto r = command({"SCAN", cursor, "MATCH", match, "COUNT", "1000"});
    if (!r.ok()) return r.error();
    const redisReply* x = (*r)->r;
    if (x->type != REDIS_REPLY_ARRAY || x->elements != 2)
      return core::Error{describe() + ": SCAN: unexpected reply"};
    cursor.assign(x->element[0]->str, x->element[0]->len);
    const redisReply* keys = x->element[1];
    for (size_t i = 0; i < keys->elements; ++i)
      out.emplace_back(keys->element[i]->str, keys->element[i]->len);
  } while (cursor != "0");
  return out;
}

}  // namespace prescale::tier

namespace prescale::tier {

core::Result<std::optional<std::map<std::string, std::string>>> RedisStore::read_fields(
    const std::string& key) {
  using Fields = std::map<std::string, std::string>;
  auto t = command({"TYPE", key});
  if (!t.ok()) return t.error();
  const std::string type((*t)->r->str, (*t)->r->len);
  if (type == "none") return std::optional<Fields>();
  if (type == "string") {
    auto g = get(key);
    if (!g.ok()) return g.error();
    if (!*g) return std::optional<Fields>();
    return std::optional<Fields>(Fields{{"", std::move(**g)}});
  }
  if (type != "hash")
    return core::Error{describe() + ": " + key + ": a " + type + ", expected a hash or a string"};
  auto h = command({"HGETALL", key});
  if (!h.ok()) return h.error();
  const redisReply* x = (*h)->r;
  Fields f;
  for (size_t i = 0; i + 1 < x->elements; i += 2)
    f.emplace(std::string(x->element[i]->str, x->element[i]->len),
              std::string(x->element[i + 1]->str, x->element[i + 1]->len));
  if (f.empty()) return std::optional<Fields>();
  return std::optional<Fields>(std::move(f));
}

core::Result<bool> RedisStore::rename(const std::string& from, const std::string& to) {
  auto r = command({"RENAME", from, to});
  if (!r.ok()) {
    if (r.error().message.find("no such key") != std::string::npos) return false;
    return r.error();
  }
  return true;
}

}  // namespace prescale::tier

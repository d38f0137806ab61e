#include "tier/server.h"

#include <httplib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

namespace prescale::tier {

namespace {

void log_line(const std::string& s) { std::cerr << "prescale tier: " << s << std::endl; }

using httplib::Request;
using httplib::Response;

const char* reason(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 408:
      return "request timeout";
    case 413:
      return "payload too large";
    case 414:
      return "request URI too long";
    case 416:
      return "range not satisfiable";
    case 431:
      return "request header fields too large";
    case 500:
      return "internal server error";
    case 507:
      return "insufficient storage";
    default:
      return "error";
  }
}

// Every error answer is {"error": "..."} (docs/tier.md).
void json_error(Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump() + "\n", "application/json");
}

// For answers given before the request body was read: the client is told to close, so the
// unread body is never parsed as a next request. (The request is httplib's own object,
// alive for the whole exchange; write_response copies this header into the answer.)
void close_after(const Request& req) {
  const_cast<Request&>(req).set_header("Connection", "close");
}

void install_api(httplib::Server& http, const TierConfig& cfg, TieredStore* store) {
  const std::uint64_t max_body = cfg.max_body_bytes;
  const std::uint64_t body_buffer = cfg.body_buffer_bytes;
  // Limits: a thread per connection from a fixed pool (more connections wait in its
  // queue), a timeout on every read and write, and short idle keep-alives, so slow clients
  // cannot take every thread and /healthz keeps answering.
  const size_t threads = static_cast<size_t>(cfg.http_threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_read_timeout(cfg.http_timeout_s, 0);
  http.set_write_timeout(cfg.http_timeout_s, 0);
  http.set_keep_alive_timeout(2);
  http.set_keep_alive_max_count(100);
  http.set_payload_max_length(static_cast<size_t>(max_body));

  // Before any body is read: one Content-Length at most, none above the limit; and every
  // body is raw bytes, whatever its Content-Type (httplib would otherwise parse form and
  // multipart bodies itself, and refuse url-encoded ones over 8 KB: curl's default type).
  http.set_pre_routing_handler([max_body](const Request& req, Response& res) {
    if (req.get_header_value_count("Content-Length") > 1) {
      json_error(res, 400, "expected one Content-Length header");
      close_after(req);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Content-Length")) {
      const std::string v = req.get_header_value("Content-Length");
      char* end = nullptr;
      errno = 0;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno == ERANGE || v[0] == '-') {
        json_error(res, 400, "expected Content-Length to be a byte count");
        close_after(req);
        return httplib::Server::HandlerResponse::Handled;
      }
      if (n > max_body) {
        json_error(
            res, 413,
            "the body is larger than http.max_body_mb (" + std::to_string(max_body) + " bytes)");
        close_after(req);
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    const_cast<Request&>(req).headers.erase("Content-Type");
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Clients that ask first (curl does above 1 MB) learn of a too-large body before sending.
  http.set_expect_100_continue_handler([](const Request& req, Response& res) {
    if (req.get_header_value_count("Content-Length") > 1) return 400;
    (void)res;
    return 100;
  });
  http.set_error_handler([](const Request&, Response& res) {
    if (res.body.empty()) json_error(res, res.status, reason(res.status));
  });
  http.set_exception_handler([](const Request&, Response& res, std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    json_error(res, 500, "internal error: " + what);
  });

  http.Put(
      R"(/objects/(.+))", [store, max_body, body_buffer](const Request& req, Response& res,
                                                         const httplib::ContentReader& reader) {
        const std::string key = req.matches[1];
        if (auto st = TieredStore::check_object_key(key); !st.ok()) {
          json_error(res, 400, st.message());
          close_after(req);
          return;
        }
        auto body = store->new_body(body_buffer);
        bool too_big = false;
        core::Status spool = core::Status::Ok();
        const bool read = reader([&](const char* data, size_t n) {
          if (body->size() + n > max_body) {  // a chunked body has no Content-Length to check
            too_big = true;
            return false;
          }
          spool = body->append(std::string_view(data, n));
          return spool.ok();
        });
        if (too_big || res.status == 413) {
          json_error(
              res, 413,
              "the body is larger than http.max_body_mb (" + std::to_string(max_body) + " bytes)");
          close_after(req);
          return;
        }
        if (spool.ok()) spool = body->finish();
        if (!spool.ok()) {  // the spool's file system is full or failing
          json_error(res, 507, "put " + key + ": " + spool.message());
          close_after(req);
          return;
        }
        if (!read) {
          json_error(res, 400, "the body could not be read (the client stopped sending?)");
          close_after(req);
          return;
        }
        auto st = store->put(key, *body);
        if (!st.ok()) {
          json_error(res, 507, st.message());
          return;
        }
        res.status = 204;
      });
  http.Get(R"(/objects/(.+))", [store, body_buffer](const Request& req, Response& res) {
    const std::string key = req.matches[1];
    if (auto st = TieredStore::check_object_key(key); !st.ok())
      return json_error(res, 400, st.message());
    auto info = store->stat(key);
    if (info.ok() && *info && (*info)->size > body_buffer) {
      // A large object is streamed (chunked) as it is read: an error after the first bytes
      // (a corrupt copy, the object deleted meanwhile) can only cut the connection, so the
      // client never takes a partial body for the object.
      res.set_chunked_content_provider(
          "application/octet-stream", [store, key](size_t, httplib::DataSink& sink) {
            auto found = store->get_to(key, [&sink](std::string_view piece) {
              if (!sink.write(piece.data(), piece.size()))
                return core::Status(core::Error{"the client went away"});
              return core::Status::Ok();
            });
            if (!found.ok() || !*found) {
              log_line("get " + key + ": stream cut: " +
                       (found.ok() ? std::string("deleted meanwhile") : found.error().message));
              return false;
            }
            sink.done();
            return true;
          });
      return;
    }
    auto g = store->get(key);
    if (!g.ok()) {
      json_error(res, 500, g.error().message);
    } else if (!*g) {
      json_error(res, 404, "no such object");
    } else {
      res.set_content(std::move(**g), "application/octet-stream");
    }
  });
  http.Delete(R"(/objects/(.+))", [store](const Request& req, Response& res) {
    const std::string key = req.matches[1];
    if (auto st = TieredStore::check_object_key(key); !st.ok())
      return json_error(res, 400, st.message());
    auto st = store->del(key);
    if (!st.ok()) return json_error(res, 500, st.message());
    res.status = 204;
  });
  http.Get("/objects", [store](const Request& req, Response& res) {
    auto l = store->list(req.has_param("prefix") ? req.get_param_value("prefix") : "");
    if (!l.ok()) return json_error(res, 500, l.error().message);
    std::string body;
    for (const auto& k : *l) body += k + "\n";
    res.set_content(body, "text/plain");
  });
  http.Get("/stats", [store](const Request&, Response& res) {
    res.set_content(store->stats().to_json() + "\n", "application/json");
  });
  http.Get("/metrics", [store](const Request&, Response& res) {
    res.set_content(store->stats().prometheus(), "text/plain; version=0.0.4");
  });
  http.Get("/healthz",
           [](const Request&, Response& res) { res.set_content("ok\n", "text/plain"); });
  // A body is allowed and ignored (curl -X POST sends none, curl -d '' an empty one).
  http.Post("/burst",
            [store](const Request& req, Response& res, const httplib::ContentReader& reader) {
              if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding"))
                reader([](const char*, size_t) { return true; });
              const std::string on = req.has_param("on") ? req.get_param_value("on") : "";
              if (on != "1" && on != "0")
                return json_error(res, 400, "expected /burst?on=1 or /burst?on=0");
              store->set_burst(on == "1");
              log_line(std::string("burst mode ") + (on == "1" ? "on" : "off"));
              res.status = 204;
            });
  // Known paths with other methods: 405, not httplib's 404.
  for (const char* path :
       {R"(/objects/(.+))", "/objects", "/stats", "/metrics", "/healthz", "/burst"}) {
    auto not_allowed = [](const Request& req, Response& res) {
      json_error(res, 405, "method " + req.method + " not allowed here");
    };
    const std::string p = path;
    if (p != "/burst") http.Post(p, not_allowed);
    if (p.rfind("/objects/", 0) != 0) {
      http.Put(p, not_allowed);
      http.Delete(p, not_allowed);
    }
    if (p == "/burst") http.Get(p, not_allowed);
    http.Patch(p, not_allowed);
  }
}

// A connection whose bytes come from a string and whose answers go to one (what httplib's
// socket stream does, without the socket).
class StringStream : public httplib::Stream {
 public:
  explicit StringStream(std::string_view in) : in_(in) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, in_.size() - pos_);
    std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 0;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 0;
  }
  socket_t socket() const override { return 0; }  // as httplib's own fuzz target
  bool exhausted() const { return pos_ >= in_.size(); }
  std::string take_output() { return std::move(out_); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  std::string out_;
};

// httplib::Server with its per-request step reachable.
class StreamServer : public httplib::Server {
 public:
  // Serves one request from `strm`; false when the connection is over.
  bool serve_one(httplib::Stream& strm, bool last) {
    bool closed = false;
    const bool ok = process_request(strm, last, closed, [](httplib::Request&) {});
    return ok && !closed;
  }
};

}  // namespace

struct InProcessServer::Impl {
  StreamServer http;
};

InProcessServer::InProcessServer(const TierConfig& cfg, TieredStore* store)
    : impl_(std::make_unique<Impl>()) {
  install_api(impl_->http, cfg, store);
}

InProcessServer::~InProcessServer() = default;

std::string InProcessServer::serve(std::string_view request) {
  StringStream strm(request);
  for (int i = 0; i < kMaxRequestsPerConnection && !strm.exhausted(); ++i) {
    if (!impl_->http.serve_one(strm, i + 1 == kMaxRequestsPerConnection)) break;
  }
  return strm.take_output();
}

core::Status serve(const TierConfig& cfg, TieredStore* store, const std::atomic<bool>& stop) {
  auto rec = store->recover();
  if (!rec.ok()) return rec.error();
  log_line("recovered: " + std::to_string(rec->intents) + " pending intents, " +
           std::to_string(rec->copies_deleted) + " copies and " + std::to_string(rec->orphans) +
           " orphans deleted, " + std::to_string(rec->temp_files) + " temp files");

  httplib::Server http;
  install_api(http, cfg, store);
  if (!http.bind_to_port(cfg.listen.c_str(), cfg.port))
    return core::Error{"http: cannot listen on " + cfg.listen + ":" + std::to_string(cfg.port) +
                       " (in use?)"};
  std::thread http_thread([&] { http.listen_after_bind(); });
  log_line("serving http://" + cfg.listen + ":" + std::to_string(cfg.port) + " (" +
           std::to_string(cfg.tick_ms) + " ms migrator tick)");
  std::string last_error;
  while (!stop) {
    auto t = store->tick();
    const std::string err = !t.ok() ? t.error().message : t->last_error;
    if (!err.empty() && err != last_error) log_line("migrator: " + err);
    last_error = err;
    if (t.ok() && t->moves > 0)
      log_line("migrator: " + std::to_string(t->demotions) + " demotions, " +
               std::to_string(t->promotions) + " promotions");
    if (t.ok() && t->orphans > 0)
      log_line("migrator: " + std::to_string(t->orphans) +
               " orphan copies deleted (no catalog row or pending write names them)");
    for (int waited = 0; waited < cfg.tick_ms && !stop; waited += 10)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(10, cfg.tick_ms)));
  }
  http.stop();
  http_thread.join();
  return core::Status::Ok();
}

}  // namespace prescale::tier

#include "tier/server.h"

#include <httplib.h>

#include <chrono>
#include <iostream>
#include <thread>

namespace prescale::tier {

namespace {

void log_line(const std::string& s) { std::cerr << "prescale tier: " << s << std::endl; }

}  // namespace

core::Status serve(const TierConfig& cfg, TieredStore* store, const std::atomic<bool>& stop) {
  auto rec = store->recover();
  if (!rec.ok()) return rec.error();
  log_line("recovered: " + std::to_string(rec->intents) + " pending intents, " +
           std::to_string(rec->copies_deleted) + " copies and " + std::to_string(rec->orphans) +
           " orphans deleted, " + std::to_string(rec->temp_files) + " temp files");

  httplib::Server http;
  http.Put(R"(/objects/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    auto st = store->put(req.matches[1], req.body);
    if (!st.ok()) {
      res.status = st.message().find("key:") == 0 ? 400 : 507;
      res.set_content(st.message() + "\n", "text/plain");
      return;
    }
    res.status = 204;
  });
  http.Get(R"(/objects/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    auto g = store->get(req.matches[1]);
    if (!g.ok()) {
      res.status = 500;
      res.set_content(g.error().message + "\n", "text/plain");
    } else if (!*g) {
      res.status = 404;
    } else {
      res.set_content(std::move(**g), "application/octet-stream");
    }
  });
  http.Delete(R"(/objects/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    auto st = store->del(req.matches[1]);
    res.status = st.ok() ? 204 : 500;
    if (!st.ok()) res.set_content(st.message() + "\n", "text/plain");
  });
  http.Get("/objects", [&](const httplib::Request& req, httplib::Response& res) {
    auto l = store->list(req.has_param("prefix") ? req.get_param_value("prefix") : "");
    if (!l.ok()) {
      res.status = 500;
      res.set_content(l.error().message + "\n", "text/plain");
      return;
    }
    std::string body;
    for (const auto& k : *l) body += k + "\n";
    res.set_content(body, "text/plain");
  });
  http.Get("/stats", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(store->stats().to_json() + "\n", "application/json");
  });
  http.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(store->stats().prometheus(), "text/plain; version=0.0.4");
  });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  http.Post("/burst", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string on = req.has_param("on") ? req.get_param_value("on") : "";
    if (on != "1" && on != "0") {
      res.status = 400;
      res.set_content("expected /burst?on=1 or /burst?on=0\n", "text/plain");
      return;
    }
    store->set_burst(on == "1");
    log_line(std::string("burst mode ") + (on == "1" ? "on" : "off"));
    res.status = 204;
  });
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
    for (int waited = 0; waited < cfg.tick_ms && !stop; waited += 10)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(10, cfg.tick_ms)));
  }
  http.stop();
  http_thread.join();
  return core::Status::Ok();
}

}  // namespace prescale::tier

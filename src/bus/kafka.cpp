#include "bus/kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "core/files.h"
#include "core/log.h"

namespace prescale::bus {

namespace {

core::Error kerr(const std::string& what, const std::string& detail) {
  return core::Error{"kafka: " + what + ": " + detail};
}

// librdkafka writes its own log lines raw to stderr by default ("%3|1764...|FAIL|rdkafka#
// producer-1| [thrd:...]: ... Connection refused"), one per reconnect attempt during an
// outage. Every handle the product creates sends them here instead: through core::log, and
// the same message (digits aside) at most once per kKafkaLogWindowS, the next one saying how
// many were suppressed.
constexpr double kKafkaLogWindowS = 30;

core::LogLimiter& kafka_log_limiter() {
  static auto* limiter = new core::LogLimiter(kKafkaLogWindowS);  // librdkafka threads at exit
  return *limiter;
}

void route_kafka_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  const std::string name = rk ? rd_kafka_name(rk) : "rdkafka";
  std::string msg(buf ? buf : "");
  // "[thrd:127.0.0.1:9092/bootstrap]: ": which internal thread; the rest names the broker.
  if (msg.rfind("[thrd:", 0) == 0) {
    if (const auto end = msg.find("]: "); end != std::string::npos) msg.erase(0, end + 3);
  }
  if (msg.rfind(name + ": ", 0) == 0) msg.erase(0, name.size() + 2);  // said once below
  // The kind of line, for the limiter: without the facility (a failed connection comes as
  // FAIL and again as ERROR) and without librdkafka's own ", N identical error(s)
  // suppressed", which makes every repeat look new.
  std::string kind = msg;
  if (const auto at = kind.find(" identical error(s) suppressed"); at != std::string::npos) {
    size_t from = at;
    while (from > 0 && kind[from - 1] >= '0' && kind[from - 1] <= '9') --from;
    if (from >= 2 && kind.compare(from - 2, 2, ", ") == 0) from -= 2;
    kind.erase(from, at + std::string_view(" identical error(s) suppressed").size() - from);
  }
  const double now_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  const auto v = kafka_log_limiter().check(kind, now_s);
  if (!v.emit) return;
  // syslog levels: 0-3 error, 4 warning, 5-7 notice, info and debug (debug lines exist only
  // when the user set librdkafka's `debug` property: they asked to see them).
  const core::LogLevel l = level <= 3   ? core::LogLevel::kError
                           : level == 4 ? core::LogLevel::kWarn
                                        : core::LogLevel::kInfo;
  core::log(l, "kafka",
            name + ": " + (fac ? fac : "?") + ": " + msg +
                core::suppressed_note(v.suppressed, v.since_s));
}

// "control.KEY" and "data.KEY": KEY for one plane only (kafka.h).
bool plane_scoped(const std::string& key) {
  return key.rfind("control.", 0) == 0 || key.rfind("data.", 0) == 0;
}

// A Conf with every property set; errors name the property (never its value: it may be a
// secret such as sasl.password).
core::Result<std::unique_ptr<RdKafka::Conf>> make_conf(const KafkaProps& props) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  rd_kafka_conf_set_log_cb(conf->c_ptr_global(), route_kafka_log);
  std::string err;
  for (const auto& [k, v] : props) {
    if (plane_scoped(k)) continue;  // for with_plane_defaults; the shared admin client skips them
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      // librdkafka quotes an invalid value in its message ("Invalid value \"...\" for ...").
      const std::string hidden = "(value not shown)";
      for (size_t at = 0; !v.empty() && (at = err.find(v, at)) != std::string::npos;) {
        err.replace(at, v.size(), hidden);
        at += hidden.size();
      }
      return kerr("property '" + k + "'", err);
    }
  }
  return conf;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const char* to_string(Plane p) { return p == Plane::kData ? "data" : "control"; }

KafkaProps with_plane_defaults(const KafkaProps& props, Plane plane, bool consumer) {
  KafkaProps out;
  const std::string mine = std::string(to_string(plane)) + ".";
  for (const auto& [k, v] : props)
    if (!plane_scoped(k)) out.emplace(k, v);
  for (const auto& [k, v] : props)
    if (k.rfind(mine, 0) == 0) out[k.substr(mine.size())] = v;  // the plane's own value wins
  auto def = [&](const char* k, const char* v) { out.emplace(k, v); };
  // A control-plane client reconnects within a second of the broker's return: librdkafka's
  // own backoff doubles to 10 s, so after a 20 s outage the controller met the broker 5-6 s
  // late (make chaos; Kafka's Java clients, the job's, default to 1 s too).
  if (plane == Plane::kControl) def("reconnect.backoff.max.ms", "1000");
  // A client id per plane, so that the broker can tell the planes apart: a quota on
  // prescale-data (docs/edge.md, "Dual-plane latency") throttles data, never control.
  def("client.id", plane == Plane::kData ? "prescale-data" : "prescale-control");
  if (!consumer) {
    // Retries neither reorder nor duplicate (a reading batch or a signal arrives once, in order).
    def("enable.idempotence", "true");
    if (plane == Plane::kData) {
      def("linger.ms", "5");
      def("batch.num.messages", "10000");
    } else {
      def("linger.ms", "0");
      def("socket.nagle.disable", "true");
    }
  } else {
    def("enable.auto.commit", "false");
    def("enable.partition.eof", "false");
    if (plane == Plane::kControl) {
      def("fetch.wait.max.ms", "10");
      def("socket.nagle.disable", "true");
    }
  }
  return out;
}

core::Result<KafkaProps> parse_props(const std::vector<std::string>& items) {
  KafkaProps out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return core::Error{"kafka property '" + item + "': expected KEY=VALUE"};
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

core::Result<PropsFile> read_props_file(const std::string& path) {
  constexpr std::size_t kMaxBytes = 1 << 20;  // a properties file is a few lines
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return core::Error{path + ": cannot open: " + std::strerror(errno)};
  if (!S_ISREG(st.st_mode)) return core::Error{path + ": not a regular file"};
  if (static_cast<std::size_t>(st.st_size) > kMaxBytes)
    return core::Error{path + ": larger than 1 MB (expected key=value lines)"};
  auto text = core::read_file(path);
  if (!text.ok()) return text.error();
  if (st.st_mode & (S_IRGRP | S_IROTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    core::log_warn("kafka", path + ": readable by others than its owner (mode " + mode +
                                "), and it may hold secrets: chmod 600 " + path);
  }
  const auto trim = [](std::string_view s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) return std::string();
    return std::string(s.substr(b, s.find_last_not_of(" \t") - b + 1));
  };
  PropsFile out;
  std::string_view rest = *text;
  for (int n = 1; !rest.empty(); ++n) {
    const auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = path + ":" + std::to_string(n);
    const std::string whole = trim(line);
    if (whole.empty() || whole[0] == '#') continue;
    const auto eq = line.find('=');
    const std::string key = eq == std::string_view::npos ? "" : trim(line.substr(0, eq));
    if (key.empty())
      return core::Error{where +
                         ": expected key=value (the line is not shown: it may be a secret)"};
    const std::string value = trim(line.substr(eq + 1));
    if (auto first = out.line.find(key); first != out.line.end())
      return core::Error{where + ": " + key + ": given again (first at line " +
                         std::to_string(first->second) + ")"};
    if (core::Status ok = check_property(key, value); !ok.ok())
      return core::Error{where + ": " + ok.message()};
    out.props[key] = value;
    out.line[key] = n;
  }
  return out;
}

core::Status check_property(const std::string& key, const std::string& value) {
  const std::string bare = !plane_scoped(key) ? key : key.substr(key.find('.') + 1);
  if (bare.empty() || plane_scoped(bare))
    return core::Error{"property '" + key + "': expected control.KEY or data.KEY, once"};
  auto conf = make_conf({{bare, value}});
  if (!conf.ok()) return conf.error();
  return core::Status::Ok();
}

core::Status check_props(const KafkaProps& props) {
  // The control plane first: an error in a shared property reads as it always did; one
  // that only the data plane's own properties cause names that plane.
  for (Plane plane : {Plane::kControl, Plane::kData}) {
    const std::string tag = plane == Plane::kData ? "data plane: " : "";
    KafkaProps probe_props = with_plane_defaults(props, plane, /*consumer=*/false);
    probe_props.erase("bootstrap.servers");  // a client with no broker to contact connects nowhere
    probe_props["log_level"] = "0";          // and says nothing about having none
    auto conf = make_conf(probe_props);
    if (!conf.ok()) return core::Error{tag + conf.error().message};
    std::string err;
    std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf->get(), err));
    if (!p) return kerr(tag + "the properties do not make a client", err);
  }
  return core::Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Admin: probe and topic creation, through a short-lived producer handle.

namespace {

core::Result<std::unique_ptr<RdKafka::Producer>> admin_handle(const KafkaProps& props) {
  auto conf = make_conf(props);
  if (!conf.ok()) return conf.error();
  std::string err;
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf->get(), err));
  if (!p) return kerr("cannot create a client", err);
  return p;
}

// One metadata request for `topic` on an existing client: its partition count, 0 when the
// cluster says it does not exist (or has no partitions yet), an error (librdkafka's text)
// when no broker answered within timeout_ms.
core::Result<int> topic_partitions(RdKafka::Handle* h, const std::string& topic, int timeout_ms) {
  std::string err;
  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(h, topic, nullptr, err));
  if (!t) return core::Error{err};
  RdKafka::Metadata* md = nullptr;
  const auto rc = h->metadata(false, t.get(), &md, timeout_ms);
  if (rc != RdKafka::ERR_NO_ERROR) return core::Error{RdKafka::err2str(rc)};
  std::unique_ptr<RdKafka::Metadata> owned(md);
  for (const auto* tm : *md->topics()) {
    if (tm->topic() != topic) continue;
    if (tm->err() == RdKafka::ERR_NO_ERROR) return static_cast<int>(tm->partitions()->size());
    if (tm->err() == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART) return 0;
    return core::Error{RdKafka::err2str(tm->err())};
  }
  return 0;
}

core::Result<std::int64_t> high_watermark(RdKafka::Handle* h, const std::string& topic,
                                          int partition, int timeout_ms) {
  std::int64_t low = 0, high = 0;
  auto rc = h->query_watermark_offsets(topic, partition, &low, &high, timeout_ms);
  if (rc != RdKafka::ERR_NO_ERROR)
    return kerr("end offset of '" + topic + "' [" + std::to_string(partition) + "]",
                RdKafka::err2str(rc));
  return high;
}

}  // namespace

core::Result<int> probe(const KafkaProps& props, int timeout_ms) {
  auto conf = make_conf(props);
  if (!conf.ok()) return conf.error();
  // The client's errors as events on its main queue (served below) instead of log lines:
  // a failed probe then says why the broker did not answer (a refused connection, TLS, the
  // wrong security.protocol), and a rejected login ends it at once.
  rd_kafka_conf_set_events((*conf)->c_ptr_global(), RD_KAFKA_EVENT_ERROR);
  std::string err;
  std::unique_ptr<RdKafka::Producer> h(RdKafka::Producer::create(conf->get(), err));
  if (!h) return kerr("cannot create a client", err);
  std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> events(
      rd_kafka_queue_get_main(h->c_ptr()), rd_kafka_queue_destroy);
  auto it = props.find("bootstrap.servers");
  const std::string where = it == props.end() ? std::string("?") : it->second;
  const std::int64_t deadline = now_ms() + timeout_ms;
  std::string last = "no answer", last_event;
  while (true) {
    RdKafka::Metadata* md = nullptr;
    const int wait = static_cast<int>(std::max<std::int64_t>(100, deadline - now_ms()));
    auto rc = h->metadata(true, nullptr, &md, std::min(wait, 1000));
    if (rc == RdKafka::ERR_NO_ERROR) {
      const int brokers = static_cast<int>(md->brokers()->size());
      delete md;
      return brokers;
    }
    last = RdKafka::err2str(rc);
    // Serves the errors that came meanwhile (waiting up to 50 ms for one while time is left).
    int wait_ms = now_ms() >= deadline ? 0 : 50;
    for (rd_kafka_event_t* ev; (ev = rd_kafka_queue_poll(events.get(), wait_ms)) != nullptr;) {
      wait_ms = 0;
      if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_ERROR) {
        const rd_kafka_resp_err_t code = rd_kafka_event_error(ev);
        const char* reason = rd_kafka_event_error_string(ev);
        const std::string text = reason ? reason : rd_kafka_err2str(code);
        route_kafka_log(h->c_ptr(), 3, "ERROR", text.c_str());  // as librdkafka logs it
        if (code == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
          rd_kafka_event_destroy(ev);
          return kerr("authentication failed at '" + where + "'", text);
        }
        // "1/1 brokers are down" says less than the error before it.
        if (code != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) last_event = text;
      }
      rd_kafka_event_destroy(ev);
    }
    if (now_ms() >= deadline) break;
  }
  return kerr("no broker answered within " + std::to_string(timeout_ms) + " ms at '" + where + "'",
              last_event.empty() ? last : last_event);
}

namespace {

// One admin request about topics (`send` issues it on `q` with `opts`): its answer, as a
// Status, within timeout_ms. A topic whose error is `tolerated` (an existing topic for a
// creation, a missing one for a deletion) is not an error.
core::Status topic_admin(
    rd_kafka_t* rk, rd_kafka_admin_op_t op, const std::string& what, rd_kafka_resp_err_t tolerated,
    int timeout_ms, const std::function<void(rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>& send) {
  char errbuf[512];
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, op);
  rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errbuf, sizeof errbuf);
  rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errbuf, sizeof errbuf);
  send(opts, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
  core::Status status;
  if (!ev) {
    status = kerr(what + " topics", "no answer within " + std::to_string(timeout_ms) + " ms");
  } else if (rd_kafka_event_error(ev)) {
    status = kerr(what + " topics", rd_kafka_event_error_string(ev));
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** rs =
        op == RD_KAFKA_ADMIN_OP_CREATETOPICS
            ? rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n)
            : rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    for (size_t i = 0; i < n && status.ok(); ++i) {
      const auto code = rd_kafka_topic_result_error(rs[i]);
      if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != tolerated) {
        const char* msg = rd_kafka_topic_result_error_string(rs[i]);
        status = kerr(what + " topic '" + rd_kafka_topic_result_name(rs[i]) + "'",
                      msg ? msg : rd_kafka_err2str(code));
      }
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
  return status;
}

}  // namespace

core::Status ensure_topics(const KafkaProps& props, const std::vector<TopicSpec>& topics,
                           int timeout_ms) {
  auto h = admin_handle(props);
  if (!h.ok()) return h.error();
  rd_kafka_t* rk = (*h)->c_ptr();
  std::vector<rd_kafka_NewTopic_t*> nts;
  char errbuf[512];
  for (const auto& t : topics) {
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, 1, errbuf, sizeof errbuf);
    if (!nt) {
      for (auto* x : nts) rd_kafka_NewTopic_destroy(x);
      return kerr("topic '" + t.name + "'", errbuf);
    }
    nts.push_back(nt);
  }
  core::Status status = topic_admin(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, "create",
                                    RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, timeout_ms,
                                    [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                                      rd_kafka_CreateTopics(rk, nts.data(), nts.size(), opts, q);
                                    });
  for (auto* x : nts) rd_kafka_NewTopic_destroy(x);
  return status;
}

core::Status delete_topics(const KafkaProps& props, const std::vector<std::string>& topics,
                           int timeout_ms) {
  auto h = admin_handle(props);
  if (!h.ok()) return h.error();
  rd_kafka_t* rk = (*h)->c_ptr();
  std::vector<rd_kafka_DeleteTopic_t*> dts;
  for (const auto& t : topics) dts.push_back(rd_kafka_DeleteTopic_new(t.c_str()));
  core::Status status = topic_admin(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS, "delete",
                                    RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, timeout_ms,
                                    [&](rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                                      rd_kafka_DeleteTopics(rk, dts.data(), dts.size(), opts, q);
                                    });
  for (auto* x : dts) rd_kafka_DeleteTopic_destroy(x);
  return status;
}

core::Result<int> partition_count(const KafkaProps& props, const std::string& topic,
                                  int timeout_ms) {
  auto h = admin_handle(props);
  if (!h.ok()) return h.error();
  const std::int64_t deadline = now_ms() + timeout_ms;
  while (true) {
    auto n = topic_partitions(h->get(), topic, 1000);
    if (n.ok() && *n > 0) return *n;
    const std::string last =
        n.ok() ? RdKafka::err2str(RdKafka::ERR_UNKNOWN_TOPIC_OR_PART) : n.error().message;
    if (now_ms() >= deadline) return kerr("topic '" + topic + "' not available", last);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

core::Result<std::int64_t> end_offset(const KafkaProps& props, const std::string& topic,
                                      int partition, int timeout_ms) {
  auto h = admin_handle(props);
  if (!h.ok()) return h.error();
  return high_watermark(h->get(), topic, partition, timeout_ms);
}

// ---------------------------------------------------------------------------------------
// Producer

struct Producer::Counters {
  std::atomic<std::uint64_t> delivered{0}, failed{0}, bytes{0};
  mutable std::mutex mu;
  std::string last_error;
};

namespace {

// One send_and_wait's delivery report; the callback owns a reference (the waiter may have
// given up by the time it comes).
struct DeliveryWait {
  std::atomic<bool> done{false};
  std::int64_t offset = -1;
  std::string error;  // empty = delivered
};

class DeliveryReports : public RdKafka::DeliveryReportCb {
 public:
  explicit DeliveryReports(std::shared_ptr<Producer::Counters> c) : c_(std::move(c)) {}
  void dr_cb(RdKafka::Message& m) override {
    if (m.err() == RdKafka::ERR_NO_ERROR) {
      c_->delivered.fetch_add(1, std::memory_order_relaxed);
      c_->bytes.fetch_add(m.len(), std::memory_order_relaxed);
    } else {
      c_->failed.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard<std::mutex> lock(c_->mu);
      c_->last_error = m.errstr();
    }
    if (m.msg_opaque()) {
      std::unique_ptr<std::shared_ptr<DeliveryWait>> w(
          static_cast<std::shared_ptr<DeliveryWait>*>(m.msg_opaque()));
      if (m.err() == RdKafka::ERR_NO_ERROR)
        (*w)->offset = m.offset();
      else
        (*w)->error = m.errstr();
      (*w)->done.store(true, std::memory_order_release);
    }
  }

 private:
  std::shared_ptr<Producer::Counters> c_;
};

}  // namespace

struct Producer::Impl {
  std::unique_ptr<DeliveryReports> dr;
  std::unique_ptr<RdKafka::Producer> p;
};

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Producer::~Producer() {
  if (impl_ && impl_->p) impl_->p->flush(5000);
}

core::Result<std::unique_ptr<Producer>> Producer::create(const KafkaProps& props, Plane plane) {
  auto conf = make_conf(with_plane_defaults(props, plane, false));
  if (!conf.ok()) return conf.error();
  auto counters = std::make_shared<Counters>();
  auto impl = std::make_unique<Impl>();
  impl->dr = std::make_unique<DeliveryReports>(counters);
  std::string err;
  if ((*conf)->set("dr_cb", impl->dr.get(), err) != RdKafka::Conf::CONF_OK)
    return kerr("delivery reports", err);
  impl->p.reset(RdKafka::Producer::create(conf->get(), err));
  if (!impl->p)
    return kerr(std::string("cannot create the ") + to_string(plane) + " producer", err);
  std::unique_ptr<Producer> out(new Producer(std::move(impl)));
  out->counters_ = std::move(counters);
  return out;
}

core::Status Producer::send(const std::string& topic, const std::string& key,
                            const std::string& payload, int block_ms) {
  const std::int64_t deadline = now_ms() + block_ms;
  while (true) {
    auto rc = impl_->p->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                const_cast<char*>(payload.data()), payload.size(),
                                key.empty() ? nullptr : key.data(), key.size(), 0, nullptr);
    if (rc == RdKafka::ERR_NO_ERROR) {
      ++enqueued_;
      impl_->p->poll(0);
      return {};
    }
    if (rc != RdKafka::ERR__QUEUE_FULL || now_ms() >= deadline)
      return kerr("produce to '" + topic + "'", RdKafka::err2str(rc));
    impl_->p->poll(10);  // the queue drains as deliveries complete
  }
}

core::Result<std::int64_t> Producer::send_and_wait(const std::string& topic, const std::string& key,
                                                   const std::string& payload, int timeout_ms) {
  auto wait = std::make_shared<DeliveryWait>();
  auto* opaque = new std::shared_ptr<DeliveryWait>(wait);  // the delivery report deletes it
  auto rc = impl_->p->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                              const_cast<char*>(payload.data()), payload.size(),
                              key.empty() ? nullptr : key.data(), key.size(), 0, opaque);
  if (rc != RdKafka::ERR_NO_ERROR) {
    delete opaque;
    return kerr("produce to '" + topic + "'", RdKafka::err2str(rc));
  }
  ++enqueued_;
  const std::int64_t deadline = now_ms() + timeout_ms;
  while (!wait->done.load(std::memory_order_acquire) && now_ms() < deadline) impl_->p->poll(20);
  if (!wait->done.load(std::memory_order_acquire))
    return kerr("produce to '" + topic + "'",
                "no delivery report within " + std::to_string(timeout_ms) + " ms");
  if (!wait->error.empty()) return kerr("produce to '" + topic + "'", wait->error);
  return wait->offset;
}

void Producer::poll(int timeout_ms) { impl_->p->poll(timeout_ms); }

core::Status Producer::flush(int timeout_ms) {
  auto rc = impl_->p->flush(timeout_ms);
  if (rc != RdKafka::ERR_NO_ERROR)
    return kerr("flush", RdKafka::err2str(rc) + " (" + std::to_string(impl_->p->outq_len()) +
                             " messages still queued)");
  if (failed() > 0)
    return kerr("delivery", std::to_string(failed()) + " messages failed, last: " + last_error());
  return {};
}

core::Result<int> Producer::partitions(const std::string& topic, int timeout_ms) {
  auto n = topic_partitions(impl_->p.get(), topic, timeout_ms);
  if (!n.ok()) return kerr("metadata of '" + topic + "'", n.error().message);
  return n;
}

core::Result<std::int64_t> Producer::end_offset(const std::string& topic, int partition,
                                                int timeout_ms) {
  return high_watermark(impl_->p.get(), topic, partition, timeout_ms);
}

std::uint64_t Producer::delivered() const { return counters_->delivered; }
std::uint64_t Producer::failed() const { return counters_->failed; }
std::uint64_t Producer::bytes_delivered() const { return counters_->bytes; }

std::string Producer::last_error() const {
  std::lock_guard<std::mutex> lock(counters_->mu);
  return counters_->last_error;
}

// ---------------------------------------------------------------------------------------
// Consumer

struct Consumer::Impl {
  std::unique_ptr<RdKafka::KafkaConsumer> c;
};

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Consumer::~Consumer() {
  if (impl_ && impl_->c) impl_->c->close();
}

core::Result<std::unique_ptr<Consumer>> Consumer::create(const KafkaProps& props, Plane plane,
                                                         const std::vector<std::string>& topics,
                                                         StartAt start, int timeout_ms) {
  KafkaProps p = with_plane_defaults(props, plane, true);
  if (!p.count("group.id")) {
    // Never joins the group (partitions are assigned directly); librdkafka still wants one.
    std::random_device rd;
    p["group.id"] = "prescale-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  }
  auto conf = make_conf(p);
  if (!conf.ok()) return conf.error();
  std::string err;
  auto impl = std::make_unique<Impl>();
  impl->c.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!impl->c)
    return kerr(std::string("cannot create the ") + to_string(plane) + " consumer", err);

  std::vector<RdKafka::TopicPartition*> parts;
  auto cleanup = [&] { RdKafka::TopicPartition::destroy(parts); };
  const std::int64_t deadline = now_ms() + timeout_ms;
  for (const auto& topic : topics) {
    std::string last = "no answer";
    bool found = false;
    while (!found) {
      std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(impl->c.get(), topic, nullptr, err));
      RdKafka::Metadata* md = nullptr;
      auto rc = impl->c->metadata(false, t.get(), &md, 1000);
      if (rc == RdKafka::ERR_NO_ERROR) {
        for (const auto* tm : *md->topics()) {
          if (tm->topic() != topic) continue;
          if (tm->err() != RdKafka::ERR_NO_ERROR || tm->partitions()->empty()) {
            last = RdKafka::err2str(tm->err());
            continue;
          }
          for (const auto* pm : *tm->partitions()) {
            const std::int64_t offset = start == StartAt::kEarliest
                                            ? RdKafka::Topic::OFFSET_BEGINNING
                                        : start == StartAt::kLast ? RdKafka::Consumer::OffsetTail(1)
                                                                  : RdKafka::Topic::OFFSET_END;
            parts.push_back(RdKafka::TopicPartition::create(topic, pm->id(), offset));
          }
          found = true;
        }
        delete md;
      } else {
        last = RdKafka::err2str(rc);
      }
      if (!found && now_ms() >= deadline) {
        cleanup();
        return kerr("topic '" + topic + "' not available", last);
      }
      if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  auto rc = impl->c->assign(parts);
  cleanup();
  if (rc != RdKafka::ERR_NO_ERROR) return kerr("assign", RdKafka::err2str(rc));
  return std::unique_ptr<Consumer>(new Consumer(std::move(impl)));
}

core::Result<std::optional<Message>> Consumer::poll(int timeout_ms) {
  std::unique_ptr<RdKafka::Message> m(impl_->c->consume(timeout_ms));
  switch (m->err()) {
    case RdKafka::ERR_NO_ERROR: {
      Message out;
      out.topic = m->topic_name();
      out.partition = m->partition();
      out.offset = m->offset();
      if (m->key()) out.key = *m->key();
      out.payload.assign(static_cast<const char*>(m->payload()), m->len());
      out.timestamp_ms = m->timestamp().timestamp;
      return std::optional<Message>(std::move(out));
    }
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__PARTITION_EOF:
      return std::optional<Message>();
    default:
      return kerr("consume", m->errstr());
  }
}

// ---------------------------------------------------------------------------------------
// GroupMember

namespace {

// Applies each assignment change (cooperatively when the group speaks it) and records it
// for poll(). Runs inside consume() and close() on the caller's thread.
class Rebalances : public RdKafka::RebalanceCb {
 public:
  std::vector<GroupMember::Change> changes;

  void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& parts) override {
    const bool coop = c->rebalance_protocol() == "COOPERATIVE";
    GroupMember::Change change;
    for (const auto* p : parts) change.partitions.push_back(p->partition());
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      change.event = GroupMember::Event::kAssigned;
      if (coop)
        delete c->incremental_assign(parts);
      else
        c->assign(parts);
    } else {
      // Revoked in a rebalance, or lost (session timed out, fenced, or an error).
      change.event = err == RdKafka::ERR__REVOKE_PARTITIONS && !c->assignment_lost()
                         ? GroupMember::Event::kRevoked
                         : GroupMember::Event::kLost;
      if (coop && err == RdKafka::ERR__REVOKE_PARTITIONS)
        delete c->incremental_unassign(parts);
      else
        c->unassign();
    }
    changes.push_back(std::move(change));
  }
};

}  // namespace

struct GroupMember::Impl {
  std::string group;
  Rebalances rebalances;  // outlives the consumer (close() calls it)
  std::unique_ptr<RdKafka::KafkaConsumer> c;
};

GroupMember::GroupMember(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GroupMember::~GroupMember() {
  if (impl_ && impl_->c) impl_->c->close();  // leaves the group: the partition moves at once
}

core::Result<std::unique_ptr<GroupMember>> GroupMember::create(const KafkaProps& props,
                                                               const Options& o) {
  KafkaProps p = with_plane_defaults(props, Plane::kControl, true);
  // The lease's semantics: these are not the user's to change through `kafka:`.
  p["group.id"] = o.group;
  p["partition.assignment.strategy"] = "cooperative-sticky";
  p["session.timeout.ms"] = std::to_string(o.session_timeout_ms);
  p["heartbeat.interval.ms"] = std::to_string(o.heartbeat_interval_ms);
  p["max.poll.interval.ms"] = std::to_string(o.max_poll_interval_ms);
  p["enable.auto.commit"] = "false";
  p["enable.auto.offset.store"] = "false";
  p["auto.offset.reset"] = "latest";
  p.erase("group.instance.id");  // static membership would keep a dead member's partition
  auto conf = make_conf(p);
  if (!conf.ok()) return conf.error();
  auto impl = std::make_unique<Impl>();
  impl->group = o.group;
  std::string err;
  if ((*conf)->set("rebalance_cb", &impl->rebalances, err) != RdKafka::Conf::CONF_OK)
    return kerr("rebalance callback", err);
  impl->c.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!impl->c) return kerr("cannot create the group member of '" + o.group + "'", err);
  auto rc = impl->c->subscribe({o.topic});
  if (rc != RdKafka::ERR_NO_ERROR)
    return kerr("subscribe to '" + o.topic + "'", RdKafka::err2str(rc));
  return std::unique_ptr<GroupMember>(new GroupMember(std::move(impl)));
}

core::Result<std::vector<GroupMember::Change>> GroupMember::poll(int timeout_ms) {
  const std::int64_t deadline = now_ms() + timeout_ms;
  std::string error;
  while (true) {
    const int wait = static_cast<int>(std::max<std::int64_t>(0, deadline - now_ms()));
    std::unique_ptr<RdKafka::Message> m(impl_->c->consume(wait));
    switch (m->err()) {
      case RdKafka::ERR_NO_ERROR:  // a record on the topic: not this object's business
      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        break;
      default:
        error = m->errstr();
    }
    if (!impl_->rebalances.changes.empty() || !error.empty() || now_ms() >= deadline) break;
  }
  std::vector<Change> out;
  out.swap(impl_->rebalances.changes);
  // A change matters more than an error (which recurs if it lasts).
  if (out.empty() && !error.empty()) return kerr("group '" + impl_->group + "'", error);
  return out;
}

}  // namespace prescale::bus

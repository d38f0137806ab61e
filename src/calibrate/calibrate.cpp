#include "calibrate/calibrate.h"

#include <yaml-cpp/yaml.h>

#include <Eigen/Dense>
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "core/files.h"
#include "core/format.h"

namespace prescale::calibrate {
namespace {

using nlohmann::json;

using core::fmt;

// One JSON-lines file: each non-blank line an object; `where` names file:line.
class Lines {
 public:
  static core::Result<Lines> open(const std::string& dir, const std::string& name) {
    Lines l;
    l.path_ = dir + "/" + name;
    auto text = core::read_file(l.path_);
    if (!text.ok()) return text.error();  // it names the path
    l.text_ = std::move(*text);
    return l;
  }
  // The next object; nullopt at the end. An error names file:line.
  core::Result<bool> next() {
    while (pos_ < text_.size()) {
      const size_t end = std::min(text_.find('\n', pos_), text_.size());
      std::string line = text_.substr(pos_, end - pos_);
      pos_ = end + 1;
      ++line_;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      obj_ = json::parse(line, nullptr, false);
      if (obj_.is_discarded() || !obj_.is_object())
        return core::Error{where() + ": not a JSON object: " + core::echo(line, 60)};
      return true;
    }
    return false;
  }
  std::string where() const { return path_ + ":" + std::to_string(line_); }
  int line() const { return line_; }
  // A required number (finite, >= lo).
  core::Result<double> number(const char* key,
                              double lo = -std::numeric_limits<double>::max()) const {
    const auto it = obj_.find(key);
    if (it == obj_.end()) return core::Error{where() + ": missing field '" + key + "'"};
    if (!it->is_number()) return core::Error{where() + ": field '" + key + "': expected a number"};
    const double v = it->get<double>();
    if (!std::isfinite(v) || v < lo)
      return core::Error{where() + ": field '" + key + "': expected a number >= " + fmt("%g", lo) +
                         ", got " + fmt("%g", v)};
    return v;
  }
  core::Result<int> integer(const char* key, int lo) const {
    const auto it = obj_.find(key);
    if (it == obj_.end()) return core::Error{where() + ": missing field '" + key + "'"};
    if (!it->is_number_integer() || it->get<long long>() < lo ||
        it->get<long long>() > std::numeric_limits<int>::max())
      return core::Error{where() + ": field '" + key +
                         "': expected an integer >= " + std::to_string(lo)};
    return static_cast<int>(it->get<long long>());
  }
  bool has(const char* key) const { return obj_.contains(key); }
  const json& obj() const { return obj_; }

 private:
  std::string path_, text_;
  size_t pos_ = 0;
  int line_ = 0;
  json obj_;
};

// Unpacks a Result inside the row readers: returns its error from the enclosing function.
#define CAL_TRY(var, expr)                   \
  auto var##_r = (expr);                     \
  if (!var##_r.ok()) return var##_r.error(); \
  const auto var = *var##_r

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t m = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(m), v.end());
  return v[m];
}

// Huber-weighted least squares (iteratively reweighted, MAD scale): y = X beta.
struct Regression {
  Eigen::VectorXd beta, se;
  Eigen::MatrixXd cov;
  double sigma = 0;  // residual standard deviation (weighted)
  int n = 0, downweighted = 0;
  bool ok = false;
};

Regression robust_fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y) {
  Regression r;
  const auto n = X.rows(), p = X.cols();
  r.n = static_cast<int>(n);
  if (n <= p) return r;
  Eigen::VectorXd w = Eigen::VectorXd::Ones(n);
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(p);
  for (int it = 0; it < 50; ++it) {
    const Eigen::MatrixXd XtW = X.transpose() * w.asDiagonal();
    const Eigen::MatrixXd A = XtW * X;
    Eigen::LDLT<Eigen::MatrixXd> ldlt(A);
    if (ldlt.info() != Eigen::Success || ldlt.rcond() < 1e-12) return r;
    const Eigen::VectorXd next = ldlt.solve(XtW * y);
    const Eigen::VectorXd res = y - X * next;
    std::vector<double> absr(static_cast<size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) absr[static_cast<size_t>(i)] = std::abs(res(i));
    const double scale = std::max(1.4826 * median(absr), 1e-9 * (1 + y.cwiseAbs().maxCoeff()));
    const double k = 1.345 * scale;
    for (Eigen::Index i = 0; i < n; ++i) w(i) = std::abs(res(i)) <= k ? 1.0 : k / std::abs(res(i));
    const bool converged = (next - beta).norm() <= 1e-9 * (1 + next.norm());
    beta = next;
    if (converged && it > 0) break;
  }
  // Huber's covariance: E[psi^2] / E[psi']^2 x (X'X)^-1, psi(r) = w r (bounded, so a stall
  // counts as a residual of k, not of its size), psi' = 1 inside k.
  const Eigen::VectorXd res = y - X * beta;
  std::vector<double> absr(static_cast<size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) absr[static_cast<size_t>(i)] = std::abs(res(i));
  const double scale = std::max(1.4826 * median(absr), 1e-9 * (1 + y.cwiseAbs().maxCoeff()));
  const double k = 1.345 * scale;
  double psi2 = 0;
  int inside = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double psi = std::clamp(res(i), -k, k);
    psi2 += psi * psi;
    inside += std::abs(res(i)) <= k;
    r.downweighted += std::abs(res(i)) > 2 * k;  // weight below 0.5
  }
  const double m = std::max(static_cast<double>(inside) / static_cast<double>(n), 1e-3);
  const double s2 = psi2 / static_cast<double>(n - p);
  r.sigma = std::sqrt(s2);
  const Eigen::MatrixXd cov = s2 / (m * m) * (X.transpose() * X).inverse();
  r.beta = beta;
  r.cov = cov;
  r.se = cov.diagonal().cwiseMax(0).cwiseSqrt();
  r.ok = true;
  return r;
}

// Not fitted: `value` stays (the base scenario's, or the arena's figure for a model term).
Estimate kept(double value, int n, const std::string& why, bool base = true) {
  Estimate e;
  e.value = e.lo = e.hi = value;
  e.n = n;
  e.fitted = false;
  e.note = (base ? "kept the base value: " : "") + why;
  return e;
}

// Scale-up delays: from each command raising the target above the previous one to the first
// sample with previous + 1 executors counted by `count` (-1 = not recorded). A command
// lowered again before that is dropped, and so is one whose executor was already counted.
template <class Count>
std::vector<double> scale_up_delays(const RunRecords& rec, Count count) {
  std::vector<double> out;
  for (const RunInfo& run : rec.runs) {
    std::vector<const ExecutorRow*> samples;
    std::vector<const CommandRow*> commands;
    for (const auto& s : rec.executors)
      if (s.run == run.run) samples.push_back(&s);
    for (const auto& c : rec.commands)
      if (c.run == run.run) commands.push_back(&c);
    if (samples.empty()) continue;
    std::stable_sort(samples.begin(), samples.end(),
                     [](auto* a, auto* b) { return a->t_s < b->t_s; });
    std::stable_sort(commands.begin(), commands.end(),
                     [](auto* a, auto* b) { return a->t_s < b->t_s; });
    int prev = run.min_executors;
    for (size_t i = 0; i < commands.size(); ++i) {
      const CommandRow& c = *commands[i];
      const int was = prev;
      prev = c.target;
      if (c.target <= was) continue;
      const int need = was + 1;
      // Counted already when it was asked for (a slow scale-down): not a cold start.
      int before = -1;
      for (const auto* s : samples)
        if (s->t_s <= c.t_s) before = count(*s);
      if (before < 0 || before >= need) continue;
      double cancel_at = std::numeric_limits<double>::infinity();
      for (size_t j = i + 1; j < commands.size(); ++j)
        if (commands[j]->target < need) {
          cancel_at = commands[j]->t_s;
          break;
        }
      for (const auto* s : samples) {
        if (s->t_s < c.t_s) continue;
        if (s->t_s >= cancel_at) break;
        if (count(*s) >= need) {
          out.push_back(s->t_s - c.t_s);
          break;
        }
      }
    }
  }
  return out;
}

Estimate delay_estimate(const std::vector<double>& d, double base, int min_n, const char* what) {
  if (static_cast<int>(d.size()) < min_n)
    return kept(
        base, static_cast<int>(d.size()),
        "too few scale-ups (" + std::to_string(d.size()) + ", need " + std::to_string(min_n) + ")");
  Estimate e;
  e.n = static_cast<int>(d.size());
  double sum = 0;
  for (double x : d) sum += x;
  e.value = sum / e.n;
  double ss = 0;
  for (double x : d) ss += (x - e.value) * (x - e.value);
  e.se = std::sqrt(ss / (e.n - 1)) / std::sqrt(static_cast<double>(e.n));
  e.lo = *std::min_element(d.begin(), d.end());
  e.hi = *std::max_element(d.begin(), d.end());
  e.fitted = true;
  e.note = std::string("mean of scale-ups, command -> ") + what + " (range = observed min..max)";
  return e;
}

double round_to(double v, double q) { return std::round(v / q) * q; }

}  // namespace

namespace {

// Every line of DIR/NAME through `row`; the first error (the file's or a row's) stops it.
template <class Row>
core::Status read_rows(const std::string& dir, const char* name, Row&& row) {
  auto lines = Lines::open(dir, name);
  if (!lines.ok()) return lines.error();
  for (;;) {
    auto more = lines->next();
    if (!more.ok()) return more.error();
    if (!*more) return core::Status::Ok();
    if (core::Status st = row(*lines); !st.ok()) return st;
  }
}

core::Status known_run(const Lines& l, const std::set<int>& runs, int run) {
  if (runs.count(run)) return core::Status::Ok();
  return core::Error{l.where() + ": run " + std::to_string(run) + " is not in runs.jsonl"};
}

core::Status read_run(const Lines& l, std::set<int>* runs, RunRecords* rec) {
  CAL_TRY(run, l.integer("run", 0));
  const auto p = l.obj().find("policy");
  if (p == l.obj().end() || !p->is_string())
    return core::Error{l.where() + ": field 'policy': expected a string"};
  if (!runs->insert(run).second)
    return core::Error{l.where() + ": run " + std::to_string(run) + " appears twice"};
  RunInfo info;
  info.run = run;
  info.policy = p->get<std::string>();
  if (l.has("duration_s")) {
    CAL_TRY(d, l.number("duration_s", 0));
    info.duration_s = d;
  }
  if (l.has("sla_ms")) {
    CAL_TRY(sla, l.number("sla_ms", 0));
    info.sla_ms = sla;
  }
  CAL_TRY(min, l.integer("min_executors", 0));
  info.min_executors = min;
  rec->runs.push_back(info);
  return core::Status::Ok();
}

core::Status read_batch(const Lines& l, const std::set<int>& runs, RunRecords* rec) {
  BatchRow b;
  b.line = l.line();
  CAL_TRY(run, l.integer("run", 0));
  if (core::Status st = known_run(l, runs, run); !st.ok()) return st;
  CAL_TRY(t, l.number("t_s"));
  CAL_TRY(rows, l.number("rows", 0));
  CAL_TRY(ms, l.number("batch_ms", 0));
  CAL_TRY(ex, l.integer("executors", 0));
  CAL_TRY(lat, l.number("latency_ms", 0));
  CAL_TRY(backlog, l.number("backlog", 0));
  CAL_TRY(rps, l.number("input_rps", 0));
  b.run = run;
  b.t_s = t;
  b.rows = rows;
  b.batch_ms = ms;
  b.executors = ex;
  b.latency_ms = lat;
  b.backlog = backlog;
  b.input_rps = rps;
  if (l.has("latency_measured")) {
    const auto& m = l.obj()["latency_measured"];
    if (!m.is_boolean())
      return core::Error{l.where() + ": field 'latency_measured': expected true or false"};
    b.latency_measured = m.get<bool>();
  }
  rec->batches.push_back(b);
  return core::Status::Ok();
}

core::Status read_executor(const Lines& l, const std::set<int>& runs, RunRecords* rec) {
  ExecutorRow s;
  s.line = l.line();
  CAL_TRY(run, l.integer("run", 0));
  if (core::Status st = known_run(l, runs, run); !st.ok()) return st;
  CAL_TRY(t, l.number("t_s"));
  CAL_TRY(ex, l.integer("executors", 0));
  s.run = run;
  s.t_s = t;
  s.executors = ex;
  if (l.has("with_tasks")) {
    CAL_TRY(wt, l.integer("with_tasks", -1));
    s.with_tasks = wt;
  }
  rec->executors.push_back(s);
  return core::Status::Ok();
}

core::Status read_command(const Lines& l, const std::set<int>& runs, RunRecords* rec) {
  CommandRow c;
  c.line = l.line();
  CAL_TRY(run, l.integer("run", 0));
  if (core::Status st = known_run(l, runs, run); !st.ok()) return st;
  CAL_TRY(t, l.number("t_s"));
  CAL_TRY(target, l.integer("target", 0));
  c.run = run;
  c.t_s = t;
  c.target = target;
  rec->commands.push_back(c);
  return core::Status::Ok();
}

}  // namespace

core::Result<RunRecords> load_run_dir(const std::string& dir) {
  RunRecords rec;
  rec.dir = dir;
  std::set<int> runs;  // runs.jsonl's, which the other files must name
  core::Status st =
      read_rows(dir, "runs.jsonl", [&](const Lines& l) { return read_run(l, &runs, &rec); });
  if (st.ok())
    st = read_rows(dir, "batches.jsonl", [&](const Lines& l) { return read_batch(l, runs, &rec); });
  if (st.ok())
    st = read_rows(dir, "executors.jsonl",
                   [&](const Lines& l) { return read_executor(l, runs, &rec); });
  if (st.ok())
    st = read_rows(dir, "commands.jsonl",
                   [&](const Lines& l) { return read_command(l, runs, &rec); });
  if (!st.ok()) return st.error();
  return rec;
}

RunRecords merge_runs(const std::vector<RunRecords>& parts) {
  RunRecords out;
  int offset = 0;
  for (const RunRecords& p : parts) {
    out.dir += (out.dir.empty() ? "" : ", ") + p.dir;
    int next = offset;
    for (RunInfo r : p.runs) {
      r.run += offset;
      next = std::max(next, r.run + 1);
      out.runs.push_back(r);
    }
    for (BatchRow b : p.batches) out.batches.push_back((b.run += offset, b));
    for (ExecutorRow e : p.executors) out.executors.push_back((e.run += offset, e));
    for (CommandRow c : p.commands) out.commands.push_back((c.run += offset, c));
    offset = next;
  }
  return out;
}

namespace {

// Each batch with the executors that served it: the live count (Spark's REST API) at the
// batch's start, t_s - batch_ms, when a sample precedes it; else the count it was recorded
// with, which is taken when its progress arrives (at its end): a batch that ran on one
// executor while two more came up would otherwise count as a three-executor batch. And the
// batches a join disturbs: those running at any time in [join, join + 2 triggers], where a
// join is a sample whose live count rose. Joins within 2 triggers of the previous one form one
// episode (their windows overlap); join_of is the episode's index (-1 for none) and
// episode_joins its joins.
struct Served {
  std::vector<BatchRow> batches;
  std::vector<int> join_of;
  std::vector<int> episode_joins;
  int joins = 0;
};

Served served_batches(const RunRecords& rec, double trigger_s) {
  std::map<int, std::vector<std::pair<double, int>>> samples;  // run -> (t_s, executors)
  for (const auto& s : rec.executors) samples[s.run].emplace_back(s.t_s, s.executors);
  // run -> episodes (first join, last join, index)
  std::map<int, std::vector<std::tuple<double, double, int>>> episodes;
  Served out;
  for (auto& [run, v] : samples) {
    std::sort(v.begin(), v.end());
    auto& e = episodes[run];
    for (size_t i = 1; i < v.size(); ++i) {
      if (!(v[i].second > v[i - 1].second)) continue;
      ++out.joins;
      if (!e.empty() && v[i].first <= std::get<1>(e.back()) + 2 * trigger_s) {
        std::get<1>(e.back()) = v[i].first;
        ++out.episode_joins[static_cast<size_t>(std::get<2>(e.back()))];
      } else {
        e.emplace_back(v[i].first, v[i].first, static_cast<int>(out.episode_joins.size()));
        out.episode_joins.push_back(1);
      }
    }
  }
  out.batches = rec.batches;
  out.join_of.assign(out.batches.size(), -1);
  for (size_t k = 0; k < out.batches.size(); ++k) {
    BatchRow& b = out.batches[k];
    const double start = b.t_s - b.batch_ms / 1000.0;
    if (const auto j = episodes.find(b.run); j != episodes.end()) {
      for (const auto& [first, last, index] : j->second)
        if (start <= last + 2 * trigger_s && b.t_s >= first) out.join_of[k] = index;
    }
    const auto it = samples.find(b.run);
    if (it == samples.end()) continue;
    const auto& v = it->second;
    auto after = std::upper_bound(v.begin(), v.end(), std::make_pair(start, INT_MAX));
    if (after == v.begin()) continue;
    const int n = std::prev(after)->second;
    if (n > 0) b.executors = n;
  }
  return out;
}

// 1. Batch duration against readings per executor: capacity, overhead and the rate that fills
// a trigger. Returns the batches used (they also carry the latencies of step 2).
std::vector<const BatchRow*> fit_batches(const Served& served, const sim::Scenario& base,
                                         const Options& opt, double tier_ms, double trigger_ms,
                                         Fit& f) {
  // The line is fitted without the batches a join disturbs (their excess is the warm-up).
  std::vector<const BatchRow*> used;
  std::vector<std::pair<const BatchRow*, int>> joined;  // (batch, join)
  for (size_t k = 0; k < served.batches.size(); ++k) {
    const BatchRow& b = served.batches[k];
    if (!(b.rows > 0 && b.executors > 0 && b.batch_ms > 0)) continue;
    if (served.join_of[k] >= 0)
      joined.emplace_back(&b, served.join_of[k]);
    else
      used.push_back(&b);
  }
  f.batches_used = static_cast<int>(used.size());
  const int nb = f.batches_used;
  Regression line;
  // With batches at two or more executor counts (each at least min_batches / 4, at least 3),
  // a third column fits the contention: batch_ms = fixed + rows / n / c + rows (n - 1) / n x
  // contention / c, i.e. rows / (c x n / (1 + contention (n - 1))).
  std::map<int, int> per_count;
  for (const auto* b : used) ++per_count[b->executors];
  int counts = 0;
  for (const auto& [n, k] : per_count) counts += k >= std::max(3, opt.min_batches / 4);
  bool contention = counts >= 2 && per_count.rbegin()->first > 1;
  const auto fit_line = [&] {
    Eigen::MatrixXd X(nb, contention ? 3 : 2);
    Eigen::VectorXd y(nb);
    for (int i = 0; i < nb; ++i) {
      const BatchRow& b = *used[static_cast<size_t>(i)];
      X(i, 0) = 1;
      X(i, 1) = b.rows / b.executors;
      if (contention) X(i, 2) = b.rows * (b.executors - 1) / b.executors;
      y(i) = b.batch_ms;
    }
    return robust_fit(X, y);
  };
  if (nb >= opt.min_batches) {
    line = fit_line();
    if (contention && !line.ok) {
      contention = false;  // the counts do not separate the two columns: linear
      line = fit_line();
    }
  }
  const std::string batches_needed = "too few batches with rows (" + std::to_string(nb) +
                                     ", need " + std::to_string(opt.min_batches) + ")";
  if (nb < opt.min_batches) {
    f.capacity_rps = kept(base.cluster.capacity_rps, nb, batches_needed);
    f.overhead_ms = kept(base.latency.overhead_ms, nb, batches_needed);
  } else if (!line.ok) {
    const std::string why = "the batches' readings per executor do not vary (no line to fit)";
    f.capacity_rps = kept(base.cluster.capacity_rps, nb, why);
    f.overhead_ms = kept(base.latency.overhead_ms, nb, why);
  } else {
    f.batch_residual_sd_ms = line.sigma;
    f.outliers = line.downweighted;
    const double slope = line.beta(1), slope_se = line.se(1);
    if (slope <= 0 || slope - 2 * slope_se <= 0) {
      const std::string why = "batch duration does not grow with readings per executor (slope " +
                              fmt("%.3g", slope) + " +- " + fmt("%.2g", slope_se) +
                              " ms per reading)";
      f.capacity_rps = kept(base.cluster.capacity_rps, nb, why);
      f.overhead_ms = kept(base.latency.overhead_ms, nb, why);
    } else {
      Estimate& c = f.capacity_rps;
      c.fitted = true;
      c.n = nb;
      c.value = 1000.0 / slope;
      c.se = 1000.0 * slope_se / (slope * slope);
      c.lo = 1000.0 / (slope + 1.96 * slope_se);
      c.hi = slope - 1.96 * slope_se > 0 ? 1000.0 / (slope - 1.96 * slope_se)
                                         : std::numeric_limits<double>::infinity();
      c.note = "1000 / slope of batch_ms on readings per executor (Huber least squares, " +
               std::to_string(line.downweighted) + " batches down-weighted)";
      // The rate at which a batch's work just fills the trigger: (1000 / slope) x (1 -
      // intercept / trigger); its SE by the delta method over (intercept, slope).
      const double F = line.beta(0), T = trigger_ms;
      Estimate& fill = f.trigger_fill_rps;
      fill.value = 1000.0 * (T - F) / (slope * T);
      Eigen::Vector2d g(-1000.0 / (slope * T), -1000.0 * (T - F) / (slope * slope * T));
      fill.se = std::sqrt(std::max(0.0, g.dot(line.cov.topLeftCorner(2, 2) * g)));
      fill.lo = fill.value - 1.96 * fill.se;
      fill.hi = fill.value + 1.96 * fill.se;
      fill.n = nb;
      fill.fitted = F < T;
      fill.note = fill.fitted ? "(1000 / slope) x (1 - intercept / trigger): the input per "
                                "executor at which a batch takes its whole trigger"
                              : "the intercept exceeds the trigger";
      Estimate& o = f.overhead_ms;
      o.n = nb;
      o.se = line.se(0);
      o.value = line.beta(0) - tier_ms;
      o.lo = o.value - 1.96 * o.se;
      o.hi = o.value + 1.96 * o.se;
      o.note = "intercept " + fmt("%.0f ms", line.beta(0)) + " less the tier's " +
               fmt("%.0f ms", tier_ms) + " (ops_per_batch x latency_ms)";
      if (o.value < 0) {
        o = kept(
            base.latency.overhead_ms, nb,
            "the intercept (" + fmt("%.0f ms", line.beta(0)) + ") is below the tier's round trips");
      } else {
        o.fitted = true;
      }
      std::string at;
      for (const auto& [n, k] : per_count)
        at += (at.empty() ? "" : ", ") + std::to_string(k) + " x " + std::to_string(n);
      at = " (batches x executors: " + at + ")";
      if (contention) {
        const double b2 = line.beta(2);
        Estimate& k = f.contention;
        k.n = nb;
        k.value = b2 / slope;
        const Eigen::Vector2d gk(-b2 / (slope * slope), 1.0 / slope);
        k.se = std::sqrt(std::max(0.0, gk.dot(line.cov.block(1, 1, 2, 2) * gk)));
        k.lo = k.value - 1.96 * k.se;
        k.hi = k.value + 1.96 * k.se;
        k.note = "the batch line's rows x (n - 1) / n column over its rows / n column" + at;
        if (k.value < 0 || k.value > 1)
          k = kept(base.cluster.contention, nb,
                   "the fitted contention " + fmt("%.3g", k.value) + " is outside 0..1" + at);
        else
          k.fitted = true;
      } else {
        f.contention = kept(base.cluster.contention, nb,
                            "too few batches at a second executor count (need " +
                                std::to_string(std::max(3, opt.min_batches / 4)) + ")" + at);
      }
      // The warm-up: per episode, the disturbed batches' time above the line, summed, per join.
      std::map<int, double> excess;
      for (const auto& [b, join] : joined) {
        const double n = b->executors;
        double predicted = line.beta(0) + line.beta(1) * b->rows / n;
        if (contention) predicted += line.beta(2) * b->rows * (n - 1) / n;
        excess[join] += (b->batch_ms - predicted) / 1000.0;
      }
      std::vector<double> per_join;
      for (const auto& [episode, s] : excess)
        per_join.push_back(s / served.episode_joins[static_cast<size_t>(episode)]);
      const int nj = static_cast<int>(per_join.size());
      const std::string joins_note = std::to_string(served.joins) + " joins in " +
                                     std::to_string(served.episode_joins.size()) + " episodes, " +
                                     std::to_string(nj) + " with a batch in their first " +
                                     fmt("%g s", 2 * trigger_ms / 1000.0);
      if (nj < opt.min_cold_starts) {
        f.warmup_s = kept(base.cluster.warmup_s, nj,
                          "too few joins with batches (" + joins_note + ", need " +
                              std::to_string(opt.min_cold_starts) + ")");
      } else {
        // The median over joins: a stall (a GC pause, a slow commit) in one join's window must
        // not read as warm-up. SE: the median's, 1.2533 x SD / sqrt(n).
        const double mean = median(per_join);
        double var = 0;
        for (double x : per_join) var += (x - mean) * (x - mean) / std::max(1, nj - 1);
        Estimate& w = f.warmup_s;
        w.n = nj;
        w.se = 1.2533 * std::sqrt(var / nj);
        w.lo = *std::min_element(per_join.begin(), per_join.end());
        w.hi = *std::max_element(per_join.begin(), per_join.end());
        w.note = "median time above the batch line of the batches running in a join's first " +
                 fmt("%g s", 2 * trigger_ms / 1000.0) + " (" + joins_note +
                 "; range = observed min..max)";
        if (mean < 0) {
          w = kept(base.cluster.warmup_s, nj,
                   "a join's batches ran " + fmt("%.2g s", -mean) + " below the line (" +
                       joins_note + ")");
        } else {
          w.value = mean;
          w.fitted = true;
        }
      }
    }
  }

  return used;
}

// 2. Latency above the model's no-backlog part, against the backlog per executor.
void fit_backlog(const std::vector<const BatchRow*>& used, const Options& opt, double tier_ms,
                 double trigger_ms, Fit& f) {
  const double cap = f.capacity_rps.value;
  const double fixed = f.overhead_ms.value + tier_ms;
  bool any_measured = false;
  for (const auto* b : used) any_measured |= b->latency_measured;
  std::vector<const BatchRow*> lat;
  int backlogged = 0;
  for (const auto* b : used)
    if (b->latency_ms > 0 && (b->latency_measured || !any_measured)) {
      lat.push_back(b);
      backlogged += b->backlog > 0;
    }
  const int nl = static_cast<int>(lat.size());
  if (nl < opt.min_batches || backlogged < opt.min_backlogged) {
    const std::string why = nl < opt.min_batches
                                ? "too few batches with a latency (" + std::to_string(nl) +
                                      ", need " + std::to_string(opt.min_batches) + ")"
                                : "too few batches with a backlog (" + std::to_string(backlogged) +
                                      " of " + std::to_string(nl) + ", need " +
                                      std::to_string(opt.min_backlogged) + ")";
    f.backlog_ms_per_rpe = kept(1000.0 / cap, nl, why + "; the arena's 1000 / capacity_rps", false);
    f.backlog_intercept_ms = kept(0, nl, why + "; the arena's 0", false);
  } else {
    Eigen::MatrixXd X(nl, 2);
    Eigen::VectorXd y(nl);
    for (int i = 0; i < nl; ++i) {
      const BatchRow& b = *lat[static_cast<size_t>(i)];
      const double rho = b.input_rps / (b.executors * cap);
      X(i, 0) = 1;
      X(i, 1) = b.backlog / b.executors;
      y(i) = b.latency_ms - (fixed + trigger_ms * std::min(rho, 1.0));
    }
    const Regression r = robust_fit(X, y);
    if (!r.ok) {
      f.backlog_ms_per_rpe =
          kept(1000.0 / cap, nl, "the backlog per executor does not vary", false);
      f.backlog_intercept_ms = kept(0, nl, "the backlog per executor does not vary", false);
    } else {
      const std::string how = std::string("Huber least squares over ") + std::to_string(nl) +
                              (any_measured ? " batches with a measured latency"
                                            : " batches (estimated latencies: none measured)") +
                              ", " + std::to_string(backlogged) + " with a backlog";
      auto set = [&](Estimate& e, int k) {
        e.fitted = true;
        e.n = nl;
        e.value = r.beta(k);
        e.se = r.se(k);
        e.lo = e.value - 1.96 * e.se;
        e.hi = e.value + 1.96 * e.se;
        e.note = how;
      };
      set(f.backlog_ms_per_rpe, 1);
      set(f.backlog_intercept_ms, 0);
    }
  }
}

// 3. Cold starts: from each scale-up command to the executor's first task (or, unrecorded, to
// its being live in the REST API).
void fit_cold_starts(const RunRecords& rec, const sim::Scenario& base, const Options& opt, Fit& f) {
  bool tasks = false;
  for (const auto& s : rec.executors) tasks |= s.with_tasks >= 0;
  const auto live = scale_up_delays(rec, [](const ExecutorRow& s) { return s.executors; });
  f.cold_start_live_s =
      delay_estimate(live, base.cluster.cold_start_s, opt.min_cold_starts, "executor live (REST)");
  if (tasks) {
    const auto first = scale_up_delays(rec, [](const ExecutorRow& s) { return s.with_tasks; });
    f.cold_start_s =
        delay_estimate(first, base.cluster.cold_start_s, opt.min_cold_starts, "its first task");
  } else {
    f.cold_start_s = f.cold_start_live_s;
    if (f.cold_start_s.fitted) f.cold_start_s.note += "; first tasks not recorded";
  }
}

}  // namespace

Fit fit(const RunRecords& rec, const sim::Scenario& base, const Options& opt) {
  Fit f;
  const double tier_ms = base.shuffle.ops_per_batch *
                         base.shuffle.tiers[static_cast<size_t>(base.default_tier)].latency_ms;
  const double trigger_ms = 1000.0 * base.latency.trigger_s;
  const Served served = served_batches(rec, base.latency.trigger_s);
  const auto used = fit_batches(served, base, opt, tier_ms, trigger_ms, f);
  fit_backlog(used, opt, tier_ms, trigger_ms, f);
  fit_cold_starts(rec, base, opt, f);
  return f;
}

sim::Scenario apply(const Fit& f, sim::Scenario s) {
  s.latency.model = f.latency_model;
  if (f.capacity_rps.fitted) s.cluster.capacity_rps = round_to(f.capacity_rps.value, 1);
  if (f.overhead_ms.fitted) s.latency.overhead_ms = round_to(f.overhead_ms.value, 1);
  if (f.contention.fitted) s.cluster.contention = round_to(f.contention.value, 0.001);
  if (f.use_warmup && f.warmup_s.fitted) s.cluster.warmup_s = round_to(f.warmup_s.value, 0.01);
  if (f.cold_start_s.fitted) s.cluster.cold_start_s = round_to(f.cold_start_s.value, 0.1);
  return s;
}

namespace {

std::string estimate_line(const char* field, const Estimate& e, double base, const char* unit) {
  std::string s = "#   " + std::string(field) + ": ";
  if (!e.fitted) return s + fmt("%.6g", base) + " " + unit + " (not fitted: " + e.note + ")\n";
  return s + fmt("%.6g", e.value) + " " + unit + " +- " + fmt("%.3g", e.se) + " (SE), range " +
         fmt("%.5g", e.lo) + ".." + fmt("%.5g", e.hi) + ", " + std::to_string(e.n) +
         " samples; base " + fmt("%g", base) + "\n#     " + e.note + "\n";
}

}  // namespace

core::Result<std::string> scenario_yaml(const Fit& f, const RunRecords& rec,
                                        const sim::Scenario& base, const std::string& name,
                                        const std::string& stamp) {
  if (base.source_file.empty())
    return core::Error{"the base scenario has no file (built in): pass one with --base"};
  auto text = core::read_file(base.source_file);
  if (!text.ok()) return text.error();
  const sim::Scenario s = apply(f, base);
  YAML::Node root;
  try {
    root = YAML::Load(*text);
    root["name"] = name;
    std::string fitted;
    auto add = [&fitted](bool ok, const std::string& what) {
      if (ok) fitted += (fitted.empty() ? "" : ", ") + what;
    };
    add(f.capacity_rps.fitted, fmt("%g readings/s per executor", s.cluster.capacity_rps));
    add(f.overhead_ms.fitted, fmt("%g ms of overhead per batch", s.latency.overhead_ms));
    add(f.contention.fitted, fmt("a contention of %g", s.cluster.contention));
    add(f.use_warmup && f.warmup_s.fitted, fmt("%g s of warm-up per join", s.cluster.warmup_s));
    add(f.cold_start_s.fitted, fmt("a %g s cold start", s.cluster.cold_start_s));
    add(true, "the " + std::string(sim::to_string(s.latency.model)) + " latency model");
    root["description"] = "Calibrated from the live run in " + rec.dir + " (" +
                          (fitted.empty() ? std::string("nothing fitted") : fitted) +
                          "; the header gives each value's uncertainty); every other value is " +
                          base.name + "'s (" + base.source_file + ").";
    if (f.capacity_rps.fitted) root["cluster"]["capacity_rps"] = s.cluster.capacity_rps;
    if (f.cold_start_s.fitted) root["cluster"]["cold_start_s"] = s.cluster.cold_start_s;
    if (f.contention.fitted) root["cluster"]["contention"] = fmt("%.3g", s.cluster.contention);
    if (f.use_warmup && f.warmup_s.fitted)
      root["cluster"]["warmup_s"] = fmt("%.3g", s.cluster.warmup_s);
    if (f.overhead_ms.fitted) root["latency"]["overhead_ms"] = s.latency.overhead_ms;
    root["latency"]["model"] = std::string(sim::to_string(s.latency.model));
  } catch (const YAML::Exception& e) {
    return core::Error{base.source_file + ": " + e.what()};
  }
  YAML::Emitter out;
  out << root;
  std::string policies;
  for (const auto& r : rec.runs) policies += (policies.empty() ? "" : ", ") + r.policy;
  std::string head =
      "# Calibrated from a live run: " + stamp + "\n" + "#   run directory: " + rec.dir + " (" +
      std::to_string(rec.runs.size()) + " run(s): " + policies + "; " +
      std::to_string(rec.batches.size()) + " batches, " + std::to_string(rec.executors.size()) +
      " executor samples, " + std::to_string(rec.commands.size()) + " commands)\n" +
      "#   base: " + base.source_file + " (every value not listed here is the base's)\n" +
      "# Fitted values (docs/sim2real.md, \"Calibration\"):\n" +
      estimate_line("cluster.capacity_rps", f.capacity_rps, base.cluster.capacity_rps,
                    "readings/s per executor") +
      estimate_line("latency.overhead_ms", f.overhead_ms, base.latency.overhead_ms, "ms") +
      estimate_line("cluster.contention", f.contention, base.cluster.contention, "") +
      estimate_line("cluster.warmup_s", f.warmup_s, base.cluster.warmup_s, "s") +
      estimate_line("cluster.cold_start_s", f.cold_start_s, base.cluster.cold_start_s, "s") +
      "#   not scenario fields (reported for the validation):\n" +
      (f.trigger_fill_rps.fitted ? estimate_line("readings/s per executor that fill a trigger",
                                                 f.trigger_fill_rps, 0, "readings/s")
                                 : std::string()) +
      estimate_line("cold start to the executor live", f.cold_start_live_s,
                    base.cluster.cold_start_s, "s") +
      estimate_line("latency per backlog reading per executor", f.backlog_ms_per_rpe,
                    1000.0 / s.cluster.capacity_rps, "ms") +
      (f.backlog_ms_per_rpe.fitted && f.backlog_ms_per_rpe.value > 0
           ? "#     (a drain rate of " + fmt("%.0f", 1000.0 / f.backlog_ms_per_rpe.value) +
                 " readings/s per executor; the arena charges 1000 / capacity_rps)\n"
           : std::string()) +
      estimate_line("latency above the model at no backlog", f.backlog_intercept_ms, 0, "ms") +
      "#   batch-duration residual SD: " + fmt("%.0f ms", f.batch_residual_sd_ms) + "\n";
  std::string yaml = head + out.c_str() + "\n";
  auto check = sim::parse_scenario(yaml, "calibrated scenario");
  if (!check.ok())
    return core::Error{"the calibrated scenario does not load (a bug): " + check.error().message};
  return yaml;
}

std::string summary(const Fit& f, const sim::Scenario& base) {
  std::string out =
      "| parameter | base | fitted | SE | range | n | note |\n|---|---|---|---|---|---|---|\n";
  auto row = [&](const char* name, const Estimate& e, const std::string& b) {
    out += std::string("| ") + name + " | " + b + " | " +
           (e.fitted ? fmt("%.5g", e.value) : std::string("(kept)")) + " | " +
           (e.fitted ? fmt("%.3g", e.se) : std::string("-")) + " | " +
           (e.fitted ? fmt("%.5g", e.lo) + ".." + fmt("%.5g", e.hi) : std::string("-")) + " | " +
           std::to_string(e.n) + " | " + e.note + " |\n";
  };
  row("cluster.capacity_rps", f.capacity_rps, fmt("%g", base.cluster.capacity_rps));
  row("latency.overhead_ms", f.overhead_ms, fmt("%g", base.latency.overhead_ms));
  row("cluster.contention", f.contention, fmt("%g", base.cluster.contention));
  row("cluster.warmup_s", f.warmup_s, fmt("%g", base.cluster.warmup_s));
  row("cluster.cold_start_s", f.cold_start_s, fmt("%g", base.cluster.cold_start_s));
  row("readings/s per executor that fill a trigger", f.trigger_fill_rps, "-");
  row("cold start to live (REST)", f.cold_start_live_s, "-");
  row("latency ms per backlog reading per executor", f.backlog_ms_per_rpe,
      fmt("%.3g", 1000.0 / base.cluster.capacity_rps));
  row("latency above the model at no backlog, ms", f.backlog_intercept_ms, "0");
  return out;
}

Fit trigger_capacity(Fit f) {
  if (!f.trigger_fill_rps.fitted) return f;
  // The overhead folded into the capacity: the fluid model charges it in latency only.
  f.latency_model = sim::LatencyModel::kFluid;
  const double marginal = f.capacity_rps.value;
  f.capacity_rps = f.trigger_fill_rps;
  f.capacity_rps.note =
      "the input per executor that fills a trigger (--capacity trigger), not "
      "the marginal rate 1000 / slope = " +
      fmt("%.0f", marginal);
  return f;
}

}  // namespace prescale::calibrate

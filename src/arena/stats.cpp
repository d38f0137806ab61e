#include "arena/stats.h"

#include <cmath>

namespace prescale::arena {

double t_quantile_975(int df) {
  // Standard table values for df = 1..30; beyond, the normal approximation with the
  // first Cornish-Fisher correction (error < 1e-3 for df > 30).
  static const double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                  2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                  2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                  2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (df <= 0) return 0;
  if (df <= 30) return kTable[df - 1];
  const double z = 1.959964;
  return z + (z * z * z + z) / (4.0 * df);
}

Stat summarize(const std::vector<double>& v) {
  Stat s;
  s.n = static_cast<int>(v.size());
  if (s.n == 0) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / s.n;
  if (s.n < 2) return s;
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  const double sd = std::sqrt(ss / (s.n - 1));
  s.ci95 = t_quantile_975(s.n - 1) * sd / std::sqrt(static_cast<double>(s.n));
  return s;
}

}  // namespace prescale::arena

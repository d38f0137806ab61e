// Mean and 95% confidence interval over seeds (Student's t, two-sided).
#pragma once

#include <vector>

namespace prescale::arena {

struct Stat {
  double mean = 0;
  double ci95 = 0;  // half-width: the interval is [mean - ci95, mean + ci95]
  int n = 0;
};

// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom.
double t_quantile_975(int df);

Stat summarize(const std::vector<double>& values);

}  // namespace prescale::arena

// Reading and writing the numbers of the forecasters' model files (lstm.cpp, global.cpp):
// bounded integers, finite floats, arrays of an exact length, and floats written with the 9
// significant digits that bring a float back exactly. Internal to src/forecast (nlohmann in a
// header: include only from .cpp files). Errors name the field; the caller adds the file.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"

namespace prescale::forecast::model_json {

// Finite and within float range (a cast of 1e300 to float is undefined).
inline bool fits_float(double d) { return std::isfinite(d) && std::fabs(d) <= FLT_MAX; }

// An integer field in [min, max] (nlohmann's get<int> would wrap 2^40 or cast 1e300).
inline core::Result<int> int_in(const nlohmann::json& j, const char* key, int min, int max) {
  const nlohmann::json& v = j.at(key);
  if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > max ||
      (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max))) {
    return core::Error{std::string(key) + ": expected an integer in [" + std::to_string(min) +
                       ", " + std::to_string(max) + "]"};
  }
  return static_cast<int>(v.get<std::int64_t>());
}

inline core::Result<float> finite_float(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = j.at(key);
  if (!v.is_number() || !fits_float(v.get<double>()))
    return core::Error{std::string(key) + ": expected a finite number"};
  return v.get<float>();
}

// An array of exactly n finite numbers (n is bounded by the caller before this allocates).
inline core::Result<std::vector<float>> floats(const nlohmann::json& j, const char* key, size_t n) {
  const nlohmann::json& a = j.at(key);
  if (!a.is_array() || a.size() != n)
    return core::Error{std::string(key) + ": expected " + std::to_string(n) + " numbers"};
  std::vector<float> v;
  v.reserve(n);
  for (const auto& x : a) {
    if (!x.is_number() || !fits_float(x.get<double>()))
      return core::Error{std::string(key) + ": not finite"};
    v.push_back(x.get<float>());
  }
  return v;
}

// A float as the shortest decimal of 9 significant digits that reads back as the same float
// (the double nearest that decimal, which nlohmann prints as it).
inline double short_float(float f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(f));
  return std::strtod(buf, nullptr);
}

inline nlohmann::json float_array(const float* v, size_t n) {
  nlohmann::json a = nlohmann::json::array();
  for (size_t i = 0; i < n; ++i) a.push_back(short_float(v[i]));
  return a;
}

}  // namespace prescale::forecast::model_json

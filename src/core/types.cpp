#include "core/types.h"

namespace prescale::core {

std::string_view to_string(Tier tier) {
  switch (tier) {
    case Tier::kRedis:
      return "redis";
    case Tier::kNvme:
      return "nvme";
    case Tier::kS3:
      return "s3";
  }
  return "?";
}

std::string_view to_string(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "?";
}

std::string_view to_string(BusinessContext context) {
  switch (context) {
    case BusinessContext::kBalanced:
      return "balanced";
    case BusinessContext::kHealthcare:
      return "healthcare";
    case BusinessContext::kBudget:
      return "budget";
  }
  return "?";
}

std::optional<Tier> parse_tier(std::string_view text) {
  if (text == "redis") return Tier::kRedis;
  if (text == "nvme") return Tier::kNvme;
  if (text == "s3") return Tier::kS3;
  return std::nullopt;
}

std::optional<Compression> parse_compression(std::string_view text) {
  if (text == "none") return Compression::kNone;
  if (text == "lz4") return Compression::kLz4;
  if (text == "zstd") return Compression::kZstd;
  return std::nullopt;
}

std::optional<BusinessContext> parse_context(std::string_view text) {
  if (text == "balanced") return BusinessContext::kBalanced;
  if (text == "healthcare") return BusinessContext::kHealthcare;
  if (text == "budget") return BusinessContext::kBudget;
  return std::nullopt;
}

}  // namespace prescale::core

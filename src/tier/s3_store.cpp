#include "tier/s3_store.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "tier/codec.h"

namespace prescale::tier {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

size_t on_body(char* p, size_t size, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, size * n);
  return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* ud) {
  std::string line(p, size * n);
  if (line.size() > 5) {
    std::string name = line.substr(0, 5);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "etag:") {
      std::string v = line.substr(5);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      *static_cast<std::string*>(ud) = v;
    }
  }
  return size * n;
}

std::string xml_unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string::npos) {
      out += s[i];
      continue;
    }
    const std::string ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp")
      out += '&';
    else if (ent == "lt")
      out += '<';
    else if (ent == "gt")
      out += '>';
    else if (ent == "quot")
      out += '"';
    else if (ent == "apos")
      out += '\'';
    else if (!ent.empty() && ent[0] == '#') {
      const long c = ent.size() > 1 && ent[1] == 'x' ? std::strtol(ent.c_str() + 2, nullptr, 16)
                                                     : std::strtol(ent.c_str() + 1, nullptr, 10);
      out += static_cast<char>(c);  // keys here are byte strings; ASCII entities only
    } else {
      out += s.substr(i, semi - i + 1);
    }
    i = semi;
  }
  return out;
}

// Every <tag>...</tag> value in document order (a minimal reader for S3's flat replies).
std::vector<std::string> xml_values(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string::npos) {
    const size_t start = pos + open.size();
    const size_t end = xml.find(close, start);
    if (end == std::string::npos) break;
    out.push_back(xml_unescape(xml.substr(start, end - start)));
    pos = end + close.size();
  }
  return out;
}

std::string first(const std::string& xml, const std::string& tag) {
  auto v = xml_values(xml, tag);
  return v.empty() ? "" : v[0];
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

bool retryable_curl(CURLcode c) {
  return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_SEND_ERROR ||
         c == CURLE_RECV_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE ||
         c == CURLE_COULDNT_RESOLVE_HOST;
}

struct CurlInit {
  CurlInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

std::string uri_encode(const std::string& s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

S3Options with_environment(S3Options o) {
  if (o.access_key.empty()) o.access_key = env("AWS_ACCESS_KEY_ID");
  if (o.secret_key.empty()) o.secret_key = env("AWS_SECRET_ACCESS_KEY");
  if (o.region.empty()) o.region = env("AWS_REGION");
  if (o.region.empty()) o.region = env("AWS_DEFAULT_REGION");
  if (o.region.empty()) o.region = "us-east-1";
  if (o.endpoint.empty()) o.endpoint = env("AWS_ENDPOINT_URL_S3");
  if (o.endpoint.empty()) o.endpoint = env("AWS_ENDPOINT_URL");
  if (o.endpoint.empty()) o.endpoint = "https://s3." + o.region + ".amazonaws.com";
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  return o;
}

core::Result<std::unique_ptr<S3Store>> S3Store::open(const S3Options& options) {
  static CurlInit init;
  S3Options o = with_environment(options);
  if (o.bucket.empty()) return core::Error{"s3.bucket: expected a bucket name"};
  if (o.access_key.empty() || o.secret_key.empty())
    return core::Error{
        "s3: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or s3.access_key "
        "and s3.secret_file)"};
  if (o.part_size < (5ull << 20))
    return core::Error{"s3.part_size: expected at least 5 MiB (S3's minimum part size)"};
  if (o.multipart_threshold < o.part_size)
    return core::Error{"s3.multipart_threshold: expected at least s3.part_size"};
  if (o.max_attempts < 1) return core::Error{"s3.max_attempts: expected at least 1"};
  std::unique_ptr<S3Store> s(new S3Store(o));
  if (o.create_bucket) {
    auto head = s->request("HEAD", "/" + uri_encode(o.bucket, false), "", "");
    if (!head.ok()) return head.error();
    if (head->status == 404) {
      auto put = s->request("PUT", "/" + uri_encode(o.bucket, false), "", "");
      if (!put.ok()) return put.error();
      if (put->status != 200 && put->status != 409)
        return core::Error{s->describe() + ": cannot create the bucket: HTTP " +
                           std::to_string(put->status) + " " + first(put->body, "Code")};
    } else if (head->status == 403) {
      // HEAD has no body: ask again with a GET to learn why (a credentials problem becomes
      // request()'s clear error).
      auto why = s->request("GET", "/" + uri_encode(o.bucket, false), "list-type=2&max-keys=1", "");
      if (!why.ok()) return why.error();
      return core::Error{s->describe() + ": HTTP 403 on the bucket " + first(why->body, "Code")};
    }
  }
  return s;
}

S3Store::~S3Store() {
  for (void* h : handles_) curl_easy_cleanup(static_cast<CURL*>(h));
}

S3Counters S3Store::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

void* S3Store::take_handle() {
  std::lock_guard<std::mutex> lock(mu_);
  if (handles_.empty()) return curl_easy_init();
  void* h = handles_.back();
  handles_.pop_back();
  return h;
}

void S3Store::give_handle(void* h) {
  std::lock_guard<std::mutex> lock(mu_);
  handles_.push_back(h);
}

std::string S3Store::object_path(const std::string& key) const {
  return "/" + uri_encode(opt_.bucket, false) + "/" + uri_encode(key, true);
}

core::Result<S3Store::Response> S3Store::request(const std::string& method, const std::string& path,
                                                 const std::string& query, std::string_view body) {
  const std::string url = opt_.endpoint + path + (query.empty() ? "" : "?" + query);
  const std::string sigv4 = "aws:amz:" + opt_.region + ":s3";
  const std::string userpwd = opt_.access_key + ":" + opt_.secret_key;
  const std::string hash_header = "x-amz-content-sha256: " + sha256_hex(body);
  const std::string what = "s3 " + method + " " + path;
  static thread_local std::mt19937 rng(std::random_device{}());
  std::string last;
  for (int attempt = 1; attempt <= opt_.max_attempts; ++attempt) {
    if (attempt > 1) {
      const int base = opt_.backoff_ms << std::min(attempt - 2, 10);
      std::uniform_int_distribution<int> jitter(base / 2, base);
      std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.retries;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.requests;
    }
    CURL* c = static_cast<CURL*>(take_handle());
    if (!c) return core::Error{what + ": cannot create a curl handle"};
    curl_easy_reset(c);
    Response resp;
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, hash_header.c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(opt_.timeout_ms));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp.etag);
    if (method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (method == "PUT" || method == "POST") {
      headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    } else if (method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    const CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    curl_off_t length = -1;
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    resp.content_length = static_cast<long long>(length);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      curl_easy_cleanup(c);  // a broken connection is not reused
      last = std::string("connection error: ") + curl_easy_strerror(rc);
      if (retryable_curl(rc)) continue;
      return core::Error{what + ": " + last};
    }
    give_handle(c);
    if (resp.status >= 500 || resp.status == 429) {
      last = "HTTP " + std::to_string(resp.status) + " " + first(resp.body, "Code");
      continue;
    }
    if (resp.status == 403 && method != "HEAD") {  // HEAD has no body: callers ask again
      const std::string code = first(resp.body, "Code");
      if (code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" ||
          code == "AccessDenied" || code.empty())
        return core::Error{what + ": the server rejected the credentials (HTTP 403 " +
                           (code.empty() ? std::string("Forbidden") : code) +
                           "): check the access key id '" + opt_.access_key +
                           "' and its secret (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or "
                           "s3.access_key / s3.secret_file) and the region '" +
                           opt_.region + "'"};
    }
    return resp;
  }
  return core::Error{what + ": failed after " + std::to_string(opt_.max_attempts) +
                     " attempts: " + last};
}

core::Status S3Store::put(const std::string& key, const std::string& data) {
  if (auto st = check_key(key); !st.ok()) return st;
  if (data.size() > opt_.multipart_threshold) return put_multipart(key, data);
  auto r = request("PUT", object_path(key), "", data);
  if (!r.ok()) return r.error();
  if (r->status != 200)
    return core::Error{"s3 PUT " + key + ": HTTP " + std::to_string(r->status) + " " +
                       first(r->body, "Code") + " " + first(r->body, "Message")};
  return core::Status::Ok();
}

core::Status S3Store::put_multipart(const std::string& key, const std::string& data) {
  const std::string path = object_path(key);
  auto init = request("POST", path, "uploads=", "");
  if (!init.ok()) return init.error();
  const std::string upload_id = first(init->body, "UploadId");
  if (init->status != 200 || upload_id.empty())
    return core::Error{"s3 multipart start " + key + ": HTTP " + std::to_string(init->status) +
                       " " + first(init->body, "Code")};
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.multipart_uploads;
  }
  const std::string uid = uri_encode(upload_id, false);
  auto abort = [&](const std::string& why) -> core::Status {
    (void)request("DELETE", path, "uploadId=" + uid, "");
    return core::Error{"s3 multipart upload of " + key + " aborted: " + why};
  };
  std::string complete = "<CompleteMultipartUpload>";
  int part = 1;
  for (std::uint64_t off = 0; off < data.size(); off += opt_.part_size, ++part) {
    const std::string_view chunk = std::string_view(data).substr(
        off, std::min<std::uint64_t>(opt_.part_size, data.size() - off));
    auto r = request("PUT", path, "partNumber=" + std::to_string(part) + "&uploadId=" + uid, chunk);
    if (!r.ok()) return abort(r.error().message);
    if (r->status != 200 || r->etag.empty())
      return abort("part " + std::to_string(part) + ": HTTP " + std::to_string(r->status) + " " +
                   first(r->body, "Code"));
    complete += "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" +
                xml_escape(r->etag) + "</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";
  auto done = request("POST", path, "uploadId=" + uid, complete);
  if (!done.ok()) return abort(done.error().message);
  // S3 may answer 200 with an <Error> body when completing.
  if (done->status != 200 || done->body.find("<Error>") != std::string::npos)
    return abort("complete: HTTP " + std::to_string(done->status) + " " +
                 first(done->body, "Code") + " " + first(done->body, "Message"));
  return core::Status::Ok();
}

core::Result<std::optional<std::string>> S3Store::get(const std::string& key) {
  if (auto st = check_key(key); !st.ok()) return st.error();
  auto r = request("GET", object_path(key), "", "");
  if (!r.ok()) return r.error();
  if (r->status == 404) return std::optional<std::string>();
  if (r->status != 200)
    return core::Error{"s3 GET " + key + ": HTTP " + std::to_string(r->status) + " " +
                       first(r->body, "Code")};
  return std::optional<std::string>(std::move(r->body));
}

core::Status S3Store::del(const std::string& key) {
  if (auto st = check_key(key); !st.ok()) return st;
  auto r = request("DELETE", object_path(key), "", "");
  if (!r.ok()) return r.error();
  if (r->status != 204 && r->status != 200 && r->status != 404)
    return core::Error{"s3 DELETE " + key + ": HTTP " + std::to_string(r->status) + " " +
                       first(r->body, "Code")};
  return core::Status::Ok();
}

core::Result<std::optional<ObjectInfo>> S3Store::stat(const std::string& key) {
  if (auto st = check_key(key); !st.ok()) return st.error();
  auto r = request("HEAD", object_path(key), "", "");
  if (!r.ok()) return r.error();
  if (r->status == 404) return std::optional<ObjectInfo>();
  if (r->status == 403) {  // no body on HEAD: a GET says why
    auto why = request("GET", object_path(key), "", "");
    if (!why.ok()) return why.error();
  }
  if (r->status != 200)
    return core::Error{"s3 HEAD " + key + ": HTTP " + std::to_string(r->status)};
  const std::uint64_t size =
      r->content_length > 0 ? static_cast<std::uint64_t>(r->content_length) : 0;
  return std::optional<ObjectInfo>(ObjectInfo{key, size});
}

core::Result<std::vector<std::string>> S3Store::list(const std::string& prefix) {
  std::vector<std::string> out;
  std::string token;
  while (true) {
    std::string q;
    if (!token.empty()) q = "continuation-token=" + uri_encode(token, false) + "&";
    q += "list-type=2";
    if (!prefix.empty()) q += "&prefix=" + uri_encode(prefix, false);
    auto r = request("GET", "/" + uri_encode(opt_.bucket, false), q, "");
    if (!r.ok()) return r.error();
    if (r->status != 200)
      return core::Error{"s3 LIST " + prefix + ": HTTP " + std::to_string(r->status) + " " +
                         first(r->body, "Code")};
    for (auto& k : xml_values(r->body, "Key")) out.push_back(std::move(k));
    if (first(r->body, "IsTruncated") != "true") break;
    token = first(r->body, "NextContinuationToken");
    if (token.empty()) break;
  }
  return out;
}

}  // namespace prescale::tier

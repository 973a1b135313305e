#include "storage/s3_xml.h"

#include <cstdlib>
#include <pugixml.hpp>

#include "core/key_path.h"

namespace scigate {

namespace {

// encoding-type=url: S3 encodes keys and prefixes, with '+' for space.
std::string url_decoded(const char* s) {
  std::string out;
  return percent_decode(s, out, true) ? out : std::string(s);
}

}  // namespace

std::string unquote_etag(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

Result<ListPage> parse_list_objects_v2(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_string(body.c_str())) {
    return Error{ErrorCode::kUpstreamFailed, "unparsable ListObjectsV2 response", ""};
  }
  auto root = doc.child("ListBucketResult");
  ListPage page;
  for (auto contents : root.children("Contents")) {
    ObjectInfo info;
    info.key = url_decoded(contents.child_value("Key"));
    info.size = std::strtoull(contents.child_value("Size"), nullptr, 10);
    info.modified = parse_iso8601(contents.child_value("LastModified")).value_or(SystemTime{});
    info.etag = unquote_etag(contents.child_value("ETag"));
    page.objects.push_back(std::move(info));
  }
  for (auto cp : root.children("CommonPrefixes")) page.common_prefixes.push_back(url_decoded(cp.child_value("Prefix")));
  if (std::string(root.child_value("IsTruncated")) == "true")
    page.next_token = root.child_value("NextContinuationToken");
  return page;
}

S3ErrorBody parse_s3_error(const std::string& body) {
  S3ErrorBody out;
  pugi::xml_document doc;
  if (!body.empty() && doc.load_string(body.c_str())) {
    out.code = doc.child("Error").child_value("Code");
    out.message = doc.child("Error").child_value("Message");
  }
  return out;
}

std::string parse_upload_id(const std::string& body) {
  pugi::xml_document doc;
  doc.load_string(body.c_str());
  return doc.child("InitiateMultipartUploadResult").child_value("UploadId");
}

}  // namespace scigate

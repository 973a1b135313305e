// Reading S3's XML answers (pugixml). Pure functions over the response body, apart from
// S3ObjectStore so that they can be tested and fuzzed without a server.
#pragma once

#include <string>

#include "core/error.h"
#include "storage/object_store.h"

namespace scigate {

// A ListObjectsV2 answer asked with encoding-type=url (keys and prefixes percent-encoded,
// '+' for space; an undecodable one is kept as sent). kUpstreamFailed when the body is not
// XML; missing elements read as empty or zero.
Result<ListPage> parse_list_objects_v2(const std::string& body);

// <Error><Code>..</Code><Message>..</Message></Error>; both empty when the body is not
// such a document.
struct S3ErrorBody {
  std::string code;
  std::string message;
};
S3ErrorBody parse_s3_error(const std::string& body);

// An ETag without its surrounding quotes (S3 sends "\"hex\"", in XML and headers).
std::string unquote_etag(std::string etag);

// The UploadId of an InitiateMultipartUploadResult; empty when absent.
std::string parse_upload_id(const std::string& body);

}  // namespace scigate

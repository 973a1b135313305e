// S3's XML answers as S3ObjectStore reads them: ListObjectsV2 (encoding-type=url), the
// <Error> document of a refusal, InitiateMultipartUpload's UploadId.
#include "fuzz_check.h"
#include "storage/s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scigate;
  std::string body = fuzz::as_string(data, size);
  auto page = parse_list_objects_v2(body);
  if (!page) FUZZ_CHECK(page.error().code == ErrorCode::kUpstreamFailed);
  auto error = parse_s3_error(body);
  FUZZ_CHECK(error.code.size() <= body.size() && error.message.size() <= body.size());
  (void)parse_upload_id(body);
  std::string etag = unquote_etag(body);
  FUZZ_CHECK(etag.size() == body.size() || etag.size() + 2 == body.size());
  return 0;
}

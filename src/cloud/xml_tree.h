// A minimal XML reader for the small documents S3 and WebDAV servers answer with
// (ListBucketResult, InitiateMultipartUploadResult, DAV multistatus, Error). It builds a tree of
// elements keyed by local name (namespace prefixes dropped: servers pick "D:", "d:" or none),
// decodes character and entity references and CDATA, and ignores comments, processing
// instructions and attributes. Malformed input is kCorrupted, never a crash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chatvault/common/status.h"

namespace chatvault::cloud {

struct XmlElement {
  std::string name;  // local name: "Key" for <s3:Key>, "href" for <D:href>
  std::string text;  // concatenated character data directly inside this element
  std::vector<XmlElement> children;

  // First direct child with this local name, or nullptr.
  const XmlElement* Child(std::string_view local_name) const;
  // Text of the first direct child with this local name, or "".
  std::string ChildText(std::string_view local_name) const;
  // All direct children with this local name.
  std::vector<const XmlElement*> Children(std::string_view local_name) const;
};

// Parses a whole document and returns its root element.
Result<XmlElement> ParseXml(std::string_view document);

}  // namespace chatvault::cloud

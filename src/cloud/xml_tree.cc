#include "cloud/xml_tree.h"

#include <cstdint>

namespace chatvault::cloud {
namespace {

constexpr int kMaxDepth = 64;

Status Malformed(std::string_view why) {
  return Corrupted("the server sent malformed XML (" + std::string(why) + ")");
}

std::string_view LocalName(std::string_view qname) {
  const size_t colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

Status DecodeText(std::string_view raw, std::string& out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out.push_back(raw[i]);
      continue;
    }
    const size_t semi = raw.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) return Malformed("bad entity reference");
    const std::string_view ref = raw.substr(i + 1, semi - i - 1);
    if (ref == "amp") out.push_back('&');
    else if (ref == "lt") out.push_back('<');
    else if (ref == "gt") out.push_back('>');
    else if (ref == "quot") out.push_back('"');
    else if (ref == "apos") out.push_back('\'');
    else if (ref.size() >= 2 && ref[0] == '#') {
      const bool hex = ref[1] == 'x' || ref[1] == 'X';
      const std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return Malformed("empty character reference");
      uint32_t cp = 0;
      for (char c : digits) {
        uint32_t d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return Malformed("bad character reference");
        cp = cp * (hex ? 16 : 10) + d;
        if (cp > 0x10FFFF) return Malformed("character reference out of range");
      }
      AppendUtf8(out, cp);
    } else {
      return Malformed("unknown entity &" + std::string(ref) + ";");
    }
    i = semi;
  }
  return OkStatus();
}

class Parser {
 public:
  explicit Parser(std::string_view doc) : doc_(doc) {}

  Result<XmlElement> Document() {
    CV_RETURN_IF_ERROR(SkipMisc());
    if (pos_ >= doc_.size() || doc_[pos_] != '<') return Malformed("no root element");
    XmlElement root;
    CV_RETURN_IF_ERROR(Element(root, 0));
    CV_RETURN_IF_ERROR(SkipMisc());
    if (pos_ != doc_.size()) return Malformed("content after the root element");
    return root;
  }

 private:
  // Whitespace, comments, <?...?> and <!DOCTYPE ...> outside the root.
  Status SkipMisc() {
    for (;;) {
      while (pos_ < doc_.size() && IsSpace(doc_[pos_])) ++pos_;
      if (Starts("<?")) {
        CV_RETURN_IF_ERROR(SkipPast("?>"));
      } else if (Starts("<!--")) {
        CV_RETURN_IF_ERROR(SkipPast("-->"));
      } else if (Starts("<!")) {
        CV_RETURN_IF_ERROR(SkipPast(">"));
      } else {
        return OkStatus();
      }
    }
  }

  Status Element(XmlElement& element, int depth) {
    if (depth > kMaxDepth) return Malformed("nesting too deep");
    ++pos_;  // '<'
    const size_t name_start = pos_;
    while (pos_ < doc_.size() && !IsSpace(doc_[pos_]) && doc_[pos_] != '>' && doc_[pos_] != '/') ++pos_;
    const std::string_view qname = doc_.substr(name_start, pos_ - name_start);
    if (qname.empty()) return Malformed("empty tag name");
    element.name = std::string(LocalName(qname));
    // Attributes are not needed; skip them, respecting quotes (a '>' may sit inside one).
    char quote = 0;
    while (pos_ < doc_.size()) {
      const char c = doc_[pos_];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>' || c == '/') {
        break;
      }
      ++pos_;
    }
    if (pos_ >= doc_.size()) return Malformed("unterminated tag");
    if (doc_[pos_] == '/') {
      if (!Starts("/>")) return Malformed("bad empty-element tag");
      pos_ += 2;
      return OkStatus();
    }
    ++pos_;  // '>'
    for (;;) {
      const size_t lt = doc_.find('<', pos_);
      if (lt == std::string_view::npos) return Malformed("unterminated element " + element.name);
      CV_RETURN_IF_ERROR(DecodeText(doc_.substr(pos_, lt - pos_), element.text));
      pos_ = lt;
      if (Starts("</")) {
        const size_t gt = doc_.find('>', pos_);
        if (gt == std::string_view::npos) return Malformed("unterminated end tag");
        std::string_view end = doc_.substr(pos_ + 2, gt - pos_ - 2);
        while (!end.empty() && IsSpace(end.back())) end.remove_suffix(1);
        if (end != qname) return Malformed("mismatched end tag");
        pos_ = gt + 1;
        return OkStatus();
      }
      if (Starts("<![CDATA[")) {
        const size_t end = doc_.find("]]>", pos_);
        if (end == std::string_view::npos) return Malformed("unterminated CDATA");
        element.text.append(doc_.substr(pos_ + 9, end - pos_ - 9));
        pos_ = end + 3;
      } else if (Starts("<!--")) {
        CV_RETURN_IF_ERROR(SkipPast("-->"));
      } else if (Starts("<?")) {
        CV_RETURN_IF_ERROR(SkipPast("?>"));
      } else {
        element.children.emplace_back();
        CV_RETURN_IF_ERROR(Element(element.children.back(), depth + 1));
      }
    }
  }

  bool Starts(std::string_view s) const { return doc_.substr(pos_).starts_with(s); }
  Status SkipPast(std::string_view end) {
    const size_t at = doc_.find(end, pos_);
    if (at == std::string_view::npos) return Malformed("unterminated markup");
    pos_ = at + end.size();
    return OkStatus();
  }
  static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

  std::string_view doc_;
  size_t pos_ = 0;
};

}  // namespace

const XmlElement* XmlElement::Child(std::string_view local_name) const {
  for (const XmlElement& c : children) {
    if (c.name == local_name) return &c;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view local_name) const {
  const XmlElement* c = Child(local_name);
  return c ? c->text : std::string();
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view local_name) const {
  std::vector<const XmlElement*> out;
  for (const XmlElement& c : children) {
    if (c.name == local_name) out.push_back(&c);
  }
  return out;
}

Result<XmlElement> ParseXml(std::string_view document) { return Parser(document).Document(); }

}  // namespace chatvault::cloud

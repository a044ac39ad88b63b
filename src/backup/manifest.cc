#include "backup/manifest.h"

#include <nlohmann/json.hpp>
#include <unordered_set>

#include "backup/page_map.h"
#include "chatvault/backup/engine.h"

namespace chatvault::backup {
namespace {

// Version 2 adds databases backed up page by page: a reader that does not know page maps would
// take a paged database's base chunks for the whole file, so it must refuse such a manifest.
// Manifests without one stay version 1.
constexpr int kManifestVersion = 1;
constexpr int kPagedManifestVersion = 2;

bool IsHexId(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

nlohmann::json PageMapToJson(const PageMap& map) {
  nlohmann::json packs = nlohmann::json::array();
  for (const PackRef& p : map.packs) {
    packs.push_back(
        {{"id", p.id}, {"size", p.size}, {"stored", p.stored}, {"live", ToGaps(p.live)}});
  }
  return {{"page_size", map.page_size},
          {"page_count", map.page_count},
          {"digest", map.digest},
          {"packs", std::move(packs)}};
}

Result<PageMap> PageMapFromJson(const nlohmann::json& doc) {
  PageMap map;
  map.page_size = doc.at("page_size").get<uint32_t>();
  map.page_count = doc.at("page_count").get<uint64_t>();
  map.digest = doc.at("digest").get<std::string>();
  if (!IsHexId(map.digest)) return Corrupted("the manifest holds a malformed page digest");
  for (const auto& jp : doc.at("packs")) {
    PackRef p;
    p.id = jp.at("id").get<std::string>();
    if (!IsHexId(p.id)) return Corrupted("the manifest holds a malformed pack id");
    p.size = jp.at("size").get<uint64_t>();
    p.stored = jp.at("stored").get<uint32_t>();
    CV_ASSIGN_OR_RETURN(p.live, FromGaps(jp.at("live").get<std::vector<uint64_t>>()));
    map.packs.push_back(std::move(p));
  }
  return map;
}

// A chunk list entry: [id, size], or null for a region of a paged database without a base chunk.
Result<ChunkRef> ChunkFromJson(const nlohmann::json& jc, bool paged) {
  if (jc.is_null() && paged) return ChunkRef{};
  ChunkRef c{jc.at(0).get<std::string>(), jc.at(1).get<uint64_t>()};
  if (!IsHexId(c.id)) return Corrupted("the manifest holds a malformed chunk id");
  return c;
}

}  // namespace

uint64_t Manifest::TotalBytes() const {
  uint64_t total = 0;
  for (const auto& f : files) total += f.size;
  return total;
}

uint64_t Manifest::MediaFileCount() const {
  uint64_t n = 0;
  for (const auto& f : files) n += f.path != kDatabaseName;
  return n;
}

uint64_t Manifest::ChunkCount() const {
  std::unordered_set<std::string> ids;
  for (const auto& f : files) {
    for (const auto& c : f.chunks) {
      if (!c.id.empty()) ids.insert(c.id);
    }
  }
  return ids.size();
}

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (part.find('\0') != std::string_view::npos) return false;
    start = end + 1;
  }
  return true;
}

Bytes SerializeManifest(const Manifest& manifest) {
  nlohmann::json files = nlohmann::json::array();
  bool paged = false;
  for (const auto& f : manifest.files) {
    nlohmann::json chunks = nlohmann::json::array();
    for (const auto& c : f.chunks) {
      chunks.push_back(c.id.empty() ? nlohmann::json() : nlohmann::json({c.id, c.size}));
    }
    nlohmann::json entry = {{"path", f.path},
                            {"size", f.size},
                            {"mode", f.mode},
                            {"mtime_ns", f.mtime_ns},
                            {"chunks", std::move(chunks)}};
    if (f.pages) {
      paged = true;
      entry["pages"] = PageMapToJson(*f.pages);
    }
    files.push_back(std::move(entry));
  }
  nlohmann::json doc = {{"version", paged ? kPagedManifestVersion : kManifestVersion},
                        {"sequence", manifest.sequence},
                        {"created_unix", manifest.created_unix},
                        {"file_count", manifest.files.size()},
                        {"total_bytes", manifest.TotalBytes()},
                        {"files", std::move(files)}};
  if (manifest.messages) doc["messages"] = *manifest.messages;
  if (!manifest.skipped.empty()) doc["skipped"] = manifest.skipped;
  return ToBytes(doc.dump());
}

Result<Manifest> ParseManifest(ByteView bytes) {
  nlohmann::json doc = nlohmann::json::parse(AsChars(bytes), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Corrupted("the manifest is not valid JSON");
  try {
    const int version = doc.at("version").get<int>();
    if (version != kManifestVersion && version != kPagedManifestVersion) {
      return Unsupported("the backup manifest has a version this build does not know");
    }
    Manifest m;
    m.sequence = doc.at("sequence").get<uint64_t>();
    m.created_unix = doc.at("created_unix").get<int64_t>();
    for (const auto& jf : doc.at("files")) {
      FileEntry f;
      f.path = jf.at("path").get<std::string>();
      f.size = jf.at("size").get<uint64_t>();
      f.mode = jf.at("mode").get<uint32_t>();
      f.mtime_ns = jf.at("mtime_ns").get<int64_t>();
      const bool paged = version == kPagedManifestVersion && jf.contains("pages");
      uint64_t sum = 0;
      for (const auto& jc : jf.at("chunks")) {
        CV_ASSIGN_OR_RETURN(ChunkRef c, ChunkFromJson(jc, paged));
        sum += c.size;
        f.chunks.push_back(std::move(c));
      }
      if (!IsSafeRelativePath(f.path)) {
        return Corrupted("the manifest names an unsafe path '" + f.path + "'");
      }
      if (paged) {
        // Only the database is paged, and it comes first.
        if (!m.files.empty() || f.path != kDatabaseName) {
          return Corrupted("the manifest holds a page map for " + f.path);
        }
        CV_ASSIGN_OR_RETURN(f.pages, PageMapFromJson(jf.at("pages")));
        CV_RETURN_IF_ERROR(CheckPageMap(*f.pages, f.chunks, f.size).Annotate(f.path));
      } else if (sum != f.size) {
        return Corrupted("the manifest's chunk sizes do not add up for " + f.path);
      }
      m.files.push_back(std::move(f));
    }
    if (doc.contains("messages")) m.messages = doc.at("messages").get<uint64_t>();
    if (doc.contains("skipped")) m.skipped = doc.at("skipped").get<std::vector<std::string>>();
    if (doc.at("file_count").get<uint64_t>() != m.files.size()) {
      return Corrupted("the manifest's file count does not match its file list");
    }
    return m;
  } catch (const nlohmann::json::exception&) {
    return Corrupted("the manifest is missing fields or has fields of the wrong type");
  }
}

Bytes SerializePointer(const Pointer& pointer) {
  nlohmann::json doc = {{"version", kManifestVersion},
                        {"sequence", pointer.sequence},
                        {"manifest_sha256", pointer.manifest_sha256}};
  return ToBytes(doc.dump());
}

Result<Pointer> ParsePointer(ByteView bytes) {
  nlohmann::json doc = nlohmann::json::parse(AsChars(bytes), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Corrupted("the backup pointer is not valid JSON");
  try {
    Pointer p;
    p.sequence = doc.at("sequence").get<uint64_t>();
    p.manifest_sha256 = doc.at("manifest_sha256").get<std::string>();
    return p;
  } catch (const nlohmann::json::exception&) {
    return Corrupted("the backup pointer is missing fields");
  }
}

}  // namespace chatvault::backup

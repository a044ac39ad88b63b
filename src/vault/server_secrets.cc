#include "chatvault/vault/server_secrets.h"

namespace chatvault::vault {
namespace {

constexpr std::string_view kStoreKey = "vault/server-secrets/v1";
constexpr std::string_view kSetupAad = "chatvault/v1/vault/opaque-server-setup";
constexpr std::string_view kSealingAad = "chatvault/v1/vault/record-sealing-key";

void AppendBlob(Bytes& out, ByteView blob) {
  AppendU16BE(out, static_cast<uint16_t>(blob.size()));
  Append(out, blob);
}

Result<Bytes> TakeBlob(ByteView& in) {
  if (in.size() < 2) return Corrupted("the stored vault secrets are truncated");
  const size_t n = ReadU16BE(in.data());
  if (in.size() < 2 + n) return Corrupted("the stored vault secrets are truncated");
  Bytes blob(in.begin() + 2, in.begin() + 2 + n);
  in = in.subspan(2 + n);
  return blob;
}

Result<ServerSecrets> Unwrap(ByteView stored, Hsm& hsm) {
  CV_ASSIGN_OR_RETURN(Bytes setup_blob, TakeBlob(stored));
  CV_ASSIGN_OR_RETURN(Bytes sealing_blob, TakeBlob(stored));
  auto setup_bytes = hsm.Unwrap(setup_blob, AsBytes(kSetupAad));
  if (!setup_bytes.ok()) {
    return setup_bytes.status().Annotate("the vault's secrets were wrapped by another HSM key");
  }
  CV_ASSIGN_OR_RETURN(opaque::ServerSetup setup, opaque::ServerSetup::Parse(setup_bytes->view()));
  CV_ASSIGN_OR_RETURN(crypto::Secret sealing, hsm.Unwrap(sealing_blob, AsBytes(kSealingAad)));
  if (sealing.size() != 32) return Corrupted("the stored record-sealing key has the wrong size");
  return ServerSecrets{std::move(setup), std::move(sealing)};
}

}  // namespace

Result<ServerSecrets> LoadServerSecrets(vaultstore::RecordStore& store, Hsm& hsm) {
  CV_ASSIGN_OR_RETURN(std::optional<vaultstore::Versioned> existing, store.Get(kStoreKey));
  if (!existing)
    return NotFound("this record store holds no vault secrets (is it a vault's store?)");
  return Unwrap(existing->value, hsm);
}

Result<ServerSecrets> LoadOrCreateServerSecrets(vaultstore::RecordStore& store, Hsm& hsm) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    CV_ASSIGN_OR_RETURN(std::optional<vaultstore::Versioned> existing, store.Get(kStoreKey));
    if (existing) return Unwrap(existing->value, hsm);

    opaque::ServerSetup setup = opaque::ServerSetup::Generate();
    CV_ASSIGN_OR_RETURN(crypto::Secret sealing, hsm.GenerateRandom(32));
    CV_ASSIGN_OR_RETURN(Bytes setup_blob, hsm.Wrap(setup.Serialize().view(), AsBytes(kSetupAad)));
    CV_ASSIGN_OR_RETURN(Bytes sealing_blob, hsm.Wrap(sealing.view(), AsBytes(kSealingAad)));
    Bytes value;
    AppendBlob(value, setup_blob);
    AppendBlob(value, sealing_blob);
    auto written = store.CompareAndSet(kStoreKey, 0, value);
    if (written.ok()) return ServerSecrets{std::move(setup), std::move(sealing)};
    if (written.status().code() != Code::kConflict) return written.status();
    // Another instance created them first: use theirs.
  }
  return Unavailable("could not agree on the vault's secrets with other instances");
}

}  // namespace chatvault::vault

// Hsm over PKCS#11. Only keyvaultd's start-up talks to the token, so one session guarded by a
// mutex is enough.
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>

#include <cstring>

#include "chatvault/common/mutex.h"
#include "chatvault/crypto/random.h"
#include "chatvault/vault/hsm.h"

namespace chatvault::vault {
namespace {

constexpr size_t kIvSize = 12;
constexpr size_t kTagSize = 16;

std::string RvText(CK_RV rv) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "CKR 0x%lx", static_cast<unsigned long>(rv));
  return buf;
}

// Token labels are 32 bytes padded with spaces.
std::string TrimLabel(const unsigned char* label, size_t size) {
  std::string s(reinterpret_cast<const char*>(label), size);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

class Pkcs11Hsm final : public Hsm {
 public:
  ~Pkcs11Hsm() override {
    if (session_ != CK_INVALID_HANDLE) {
      fn_->C_Logout(session_);
      fn_->C_CloseSession(session_);
    }
    if (fn_) {
      p11_kit_module_finalize(fn_);
      p11_kit_module_release(fn_);
    }
  }

  // Runs before the object is shared; it takes the lock only because the session it opens is
  // guarded from then on.
  Status Init(const HsmConfig& config) {
    MutexLock lock(mu_);
    fn_ = p11_kit_module_load(config.module_path.c_str(), P11_KIT_MODULE_UNMANAGED);
    if (!fn_) {
      return Unavailable("cannot load the PKCS#11 module " + config.module_path + ": " +
                         (p11_kit_message() ? p11_kit_message() : "unknown error"));
    }
    if (CK_RV rv = p11_kit_module_initialize(fn_); rv != CKR_OK) {
      p11_kit_module_release(fn_);
      fn_ = nullptr;
      return Unavailable("cannot initialize the PKCS#11 module (" + RvText(rv) + ")");
    }
    CV_ASSIGN_OR_RETURN(CK_SLOT_ID slot, FindSlot(config.token_label));
    if (CK_RV rv = fn_->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr,
                                      &session_);
        rv != CKR_OK) {
      return Unavailable("cannot open a session on the HSM token (" + RvText(rv) + ")");
    }
    CK_RV rv = fn_->C_Login(session_, CKU_USER,
                            reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(config.pin.data())),
                            config.pin.size());
    if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE) {
      return PermissionDenied("the HSM token refused the PIN");
    }
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
      return Unavailable("cannot log in to the HSM token (" + RvText(rv) + ")");
    }
    CV_ASSIGN_OR_RETURN(key_, FindOrCreateKey(config.key_label));
    return OkStatus();
  }

  // Wrap calls this before it takes the lock itself.
  Result<crypto::Secret> GenerateRandom(size_t size) CV_EXCLUDES(mu_) override {
    MutexLock lock(mu_);
    crypto::Secret out(size);
    if (CK_RV rv = fn_->C_GenerateRandom(session_, out.data(), size); rv != CKR_OK) {
      return Unavailable("the HSM could not generate random bytes (" + RvText(rv) + ")");
    }
    return out;
  }

  Result<Bytes> Wrap(ByteView secret, ByteView aad) override {
    CV_ASSIGN_OR_RETURN(crypto::Secret iv, GenerateRandom(kIvSize));
    MutexLock lock(mu_);
    CK_GCM_PARAMS params = Params(iv.data(), aad);
    CK_MECHANISM mech{CKM_AES_GCM, &params, sizeof params};
    if (CK_RV rv = fn_->C_EncryptInit(session_, &mech, key_); rv != CKR_OK) {
      return Internal("the HSM refused AES-GCM encryption (" + RvText(rv) + ")");
    }
    Bytes out(kIvSize + secret.size() + kTagSize);
    std::memcpy(out.data(), iv.data(), kIvSize);
    CK_ULONG len = out.size() - kIvSize;
    if (CK_RV rv = fn_->C_Encrypt(session_, const_cast<uint8_t*>(secret.data()), secret.size(),
                                  out.data() + kIvSize, &len);
        rv != CKR_OK) {
      return Internal("the HSM failed to wrap a secret (" + RvText(rv) + ")");
    }
    out.resize(kIvSize + len);
    return out;
  }

  Result<crypto::Secret> Unwrap(ByteView wrapped, ByteView aad) override {
    if (wrapped.size() < kIvSize + kTagSize) return Corrupted("a wrapped vault secret is too short");
    MutexLock lock(mu_);
    CK_GCM_PARAMS params = Params(const_cast<uint8_t*>(wrapped.data()), aad);
    CK_MECHANISM mech{CKM_AES_GCM, &params, sizeof params};
    if (CK_RV rv = fn_->C_DecryptInit(session_, &mech, key_); rv != CKR_OK) {
      return Internal("the HSM refused AES-GCM decryption (" + RvText(rv) + ")");
    }
    crypto::Secret out(wrapped.size() - kIvSize);
    CK_ULONG len = out.size();
    CK_RV rv = fn_->C_Decrypt(session_, const_cast<uint8_t*>(wrapped.data()) + kIvSize,
                              wrapped.size() - kIvSize, out.data(), &len);
    if (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
        rv == CKR_DATA_INVALID || rv == CKR_FUNCTION_FAILED) {
      return Corrupted("a wrapped vault secret does not open under this HSM's master key");
    }
    if (rv != CKR_OK) return Internal("the HSM failed to unwrap a secret (" + RvText(rv) + ")");
    return crypto::Secret::FromBytes(ByteView(out.data(), len));
  }

 private:
  static CK_GCM_PARAMS Params(uint8_t* iv, ByteView aad) {
    CK_GCM_PARAMS p{};
    p.iv_ptr = iv;
    p.iv_len = kIvSize;
    p.iv_bits = kIvSize * 8;
    p.aad_ptr = const_cast<uint8_t*>(aad.data());
    p.aad_len = aad.size();
    p.tag_bits = kTagSize * 8;
    return p;
  }

  Result<CK_SLOT_ID> FindSlot(const std::string& label) {
    CK_ULONG count = 0;
    if (CK_RV rv = fn_->C_GetSlotList(CK_TRUE, nullptr, &count); rv != CKR_OK) {
      return Unavailable("cannot list the HSM's slots (" + RvText(rv) + ")");
    }
    std::vector<CK_SLOT_ID> slots(count);
    if (count > 0 && fn_->C_GetSlotList(CK_TRUE, slots.data(), &count) != CKR_OK) {
      return Unavailable("cannot list the HSM's slots");
    }
    for (CK_ULONG i = 0; i < count; ++i) {
      CK_TOKEN_INFO info;
      if (fn_->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
      if (TrimLabel(info.label, sizeof info.label) == label) return slots[i];
    }
    return Unavailable("the HSM has no token labelled '" + label +
                       "' (create one with tools/vault/make-softhsm-token.sh)");
  }

  Result<CK_OBJECT_HANDLE> FindOrCreateKey(const std::string& label) CV_REQUIRES(mu_) {
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE query[] = {{CKA_CLASS, &cls, sizeof cls},
                            {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    if (fn_->C_FindObjectsInit(session_, query, 2) != CKR_OK) {
      return Unavailable("cannot search the HSM token for the master key");
    }
    CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
    CK_ULONG found = 0;
    fn_->C_FindObjects(session_, &handle, 1, &found);
    fn_->C_FindObjectsFinal(session_);
    if (found == 1) return handle;

    // First start: the key is born inside the token and can never be read out of it.
    CK_KEY_TYPE type = CKK_AES;
    CK_ULONG size = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},       {CKA_KEY_TYPE, &type, sizeof type},
        {CKA_VALUE_LEN, &size, sizeof size}, {CKA_LABEL, const_cast<char*>(label.data()), label.size()},
        {CKA_TOKEN, &yes, sizeof yes},       {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SENSITIVE, &yes, sizeof yes},   {CKA_EXTRACTABLE, &no, sizeof no},
        {CKA_ENCRYPT, &yes, sizeof yes},     {CKA_DECRYPT, &yes, sizeof yes},
    };
    CK_MECHANISM mech{CKM_AES_KEY_GEN, nullptr, 0};
    if (CK_RV rv = fn_->C_GenerateKey(session_, &mech, tmpl, sizeof tmpl / sizeof tmpl[0], &handle);
        rv != CKR_OK) {
      return Unavailable("the HSM could not generate the vault master key (" + RvText(rv) + ")");
    }
    return handle;
  }

  // Serializes the calls on session_: a PKCS#11 session is not safe to share between threads.
  // The handles themselves are set once, before the first call, and never change.
  Mutex mu_;
  CK_FUNCTION_LIST* fn_ = nullptr;
  CK_SESSION_HANDLE session_ CV_GUARDED_BY(mu_) = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE key_ = CK_INVALID_HANDLE;
};

}  // namespace

Result<std::unique_ptr<Hsm>> Hsm::Open(const HsmConfig& config) {
  if (config.module_path.empty()) return InvalidArgument("no PKCS#11 module path was given");
  auto hsm = std::make_unique<Pkcs11Hsm>();
  CV_RETURN_IF_ERROR(hsm->Init(config));
  return std::unique_ptr<Hsm>(std::move(hsm));
}

}  // namespace chatvault::vault

// The pkcs11: signer: a P-384 key on a PKCS#11 token, named by an RFC 7512 URI, through p11-kit
// (module loading and URI parsing) and the token's own CKM_ECDSA.
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/file.h"
#include "measure/digest.h"
#include "sign/internal/backends.h"

namespace igvmkit::sign::internal {
namespace {

// DER OID 1.3.132.0.34 (secp384r1), the only CKA_EC_PARAMS an SNP key can have.
constexpr unsigned char kP384Oid[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};

Error tokenError(std::string rule, std::string message) {
  return Error{Code::kUnreadable, std::move(rule), std::move(message), std::nullopt};
}

std::string rvText(CK_RV rv) {
  const char* s = p11_kit_strerror(rv);
  return s != nullptr ? s : "error " + std::to_string(rv);
}

// The URI as a message may show it: everything before the query, where a PIN would be.
std::string withoutQuery(std::string_view uri) { return std::string(uri.substr(0, uri.find('?'))); }

struct UriDeleter {
  void operator()(P11KitUri* u) const { p11_kit_uri_free(u); }
};
using UriPtr = std::unique_ptr<P11KitUri, UriDeleter>;

// The modules the URI allows: module-path, else module-name among the registered ones, else all
// registered modules (p11-kit's configuration, /usr/share/p11-kit/modules).
class Modules {
 public:
  ~Modules() {
    if (single_ != nullptr) {
      p11_kit_module_finalize(single_);
      p11_kit_module_release(single_);
    }
    if (registered_ != nullptr) {
      p11_kit_modules_finalize_and_release(registered_);
    }
  }
  Status load(P11KitUri* uri) {
    if (const char* path = p11_kit_uri_get_module_path(uri)) {
      single_ = p11_kit_module_load(path, 0);
      if (single_ == nullptr) {
        const char* why = p11_kit_message();
        return tokenError("sign.pkcs11_module", "cannot load pkcs#11 module " + std::string(path) +
                                                    (why != nullptr ? ": " + std::string(why) : ""));
      }
      CK_RV rv = p11_kit_module_initialize(single_);
      if (rv != CKR_OK) {
        p11_kit_module_release(single_);
        single_ = nullptr;
        return tokenError("sign.pkcs11_module", "pkcs#11 module " + std::string(path) +
                                                    " does not initialize: " + rvText(rv));
      }
      list_.push_back(single_);
      return okStatus();
    }
    registered_ = p11_kit_modules_load_and_initialize(0);
    if (registered_ == nullptr) {
      return tokenError("sign.pkcs11_module", "p11-kit cannot load the registered modules");
    }
    const char* name = p11_kit_uri_get_module_name(uri);
    for (CK_FUNCTION_LIST** m = registered_; *m != nullptr; ++m) {
      char* module_name = p11_kit_module_get_name(*m);
      const bool wanted = name == nullptr || (module_name != nullptr && std::strcmp(name, module_name) == 0);
      std::free(module_name);
      if (wanted) {
        list_.push_back(*m);
      }
    }
    if (list_.empty()) {
      return tokenError("sign.pkcs11_module",
                        "no registered pkcs#11 module is named " + std::string(name));
    }
    return okStatus();
  }
  const std::vector<CK_FUNCTION_LIST*>& list() const { return list_; }

 private:
  CK_FUNCTION_LIST* single_ = nullptr;
  CK_FUNCTION_LIST** registered_ = nullptr;
  std::vector<CK_FUNCTION_LIST*> list_;
};

Result<ByteVector> attribute(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                             CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  if (f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
      a.ulValueLen > 4096) {
    return invalid("sign.pkcs11_key", "the key has no readable attribute " + std::to_string(type));
  }
  ByteVector value(a.ulValueLen);
  a.pValue = value.data();
  if (f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK) {
    return invalid("sign.pkcs11_key", "the key has no readable attribute " + std::to_string(type));
  }
  value.resize(a.ulValueLen);
  return value;
}

// Objects of `cls` matching the URI's object attributes (label, id).
std::vector<CK_OBJECT_HANDLE> findObjects(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, P11KitUri* uri,
                                          CK_OBJECT_CLASS cls, const ByteVector* id) {
  CK_ULONG n_attrs = 0;
  CK_ATTRIBUTE* attrs = p11_kit_uri_get_attributes(uri, &n_attrs);
  std::vector<CK_ATTRIBUTE> tmpl;
  tmpl.push_back({CKA_CLASS, &cls, sizeof(cls)});
  for (CK_ULONG i = 0; i < n_attrs; ++i) {
    if (attrs[i].type == CKA_LABEL || (attrs[i].type == CKA_ID && id == nullptr)) {
      tmpl.push_back(attrs[i]);
    }
  }
  if (id != nullptr) {
    tmpl.push_back({CKA_ID, const_cast<std::byte*>(id->data()), id->size()});
  }
  std::vector<CK_OBJECT_HANDLE> found;
  if (f->C_FindObjectsInit(s, tmpl.data(), tmpl.size()) != CKR_OK) {
    return found;
  }
  CK_OBJECT_HANDLE h[2];
  CK_ULONG count = 0;
  if (f->C_FindObjects(s, h, 2, &count) == CKR_OK) {
    found.assign(h, h + count);
  }
  f->C_FindObjectsFinal(s);
  return found;
}

// CKA_EC_POINT is a DER OCTET STRING around the SEC 1 point; some tokens give the bare point.
Bytes unwrapPoint(const ByteVector& value) {
  Bytes v(value);
  if (v.size() == 99 && v[0] == std::byte{0x04} && v[1] == std::byte{0x61}) {
    return v.subspan(2);
  }
  return v;
}

Result<std::string> pinFrom(P11KitUri* uri) {
  if (const char* pin = p11_kit_uri_get_pin_value(uri)) {
    return std::string(pin);
  }
  if (const char* source = p11_kit_uri_get_pin_source(uri)) {
    std::string path = source;
    if (path.starts_with("file:")) {
      path = path.substr(5);
      if (path.starts_with("//")) {  // file:///path
        path = path.substr(2);
      }
    }
    IGVMKIT_ASSIGN_OR_RETURN(std::string pin, readTextFile(path));
    while (!pin.empty() && (pin.back() == '\n' || pin.back() == '\r')) {
      pin.pop_back();
    }
    return pin;
  }
  return Error{Code::kUsage, "sign.pkcs11_pin",
               "the token needs a pin and the uri gives none (add ?pin-value=PIN or "
                       "?pin-source=file:PATH; igvmkit never prompts)",
               std::nullopt};
}

class Pkcs11Signer final : public Backend {
 public:
  Pkcs11Signer(std::string shown, const measure::SNP_ECDSA_PUBLIC_KEY& key,
               std::unique_ptr<Modules> modules, CK_FUNCTION_LIST* f, CK_SESSION_HANDLE session,
               CK_OBJECT_HANDLE private_key)
      : Backend(std::move(shown), key),
        modules_(std::move(modules)),
        f_(f),
        session_(session),
        key_(private_key) {}
  ~Pkcs11Signer() override { f_->C_CloseSession(session_); }

 private:
  Result<ByteVector> signatureOver(Bytes message) override {
    // CKM_ECDSA signs a digest the caller computes; every token that has P-384 has it.
    IGVMKIT_ASSIGN_OR_RETURN(measure::Sha384Digest digest, measure::sha384(message));
    CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
    CK_RV rv = f_->C_SignInit(session_, &mech, key_);
    if (rv != CKR_OK) {
      return invalid("sign.pkcs11_sign", "C_SignInit: " + rvText(rv));
    }
    unsigned char sig[2 * measure::kP384Size + 8];
    CK_ULONG len = sizeof(sig);
    rv = f_->C_Sign(session_, reinterpret_cast<unsigned char*>(digest.data()), digest.size(), sig,
                    &len);
    if (rv != CKR_OK) {
      return invalid("sign.pkcs11_sign", "C_Sign: " + rvText(rv));
    }
    const auto* p = reinterpret_cast<const std::byte*>(sig);
    return ByteVector(p, p + len);
  }

  std::unique_ptr<Modules> modules_;
  CK_FUNCTION_LIST* f_;
  CK_SESSION_HANDLE session_;
  CK_OBJECT_HANDLE key_;
};

}  // namespace

Result<std::unique_ptr<Signer>> openPkcs11(std::string_view spec, const SignerOptions& options) {
  const std::string shown = withoutQuery(spec);
  UriPtr uri(p11_kit_uri_new());
  int parsed = p11_kit_uri_parse(std::string(spec).c_str(), P11_KIT_URI_FOR_ANY, uri.get());
  if (parsed != P11_KIT_URI_OK) {
    return Error{Code::kUsage, "sign.pkcs11_uri",
                 std::string("not a pkcs#11 uri (rfc 7512): ") + p11_kit_uri_message(parsed),
                 std::nullopt};
  }
  CK_ULONG n_attrs = 0;
  CK_ATTRIBUTE* attrs = p11_kit_uri_get_attributes(uri.get(), &n_attrs);
  for (CK_ULONG i = 0; i < n_attrs; ++i) {
    if (attrs[i].type == CKA_CLASS && attrs[i].ulValueLen == sizeof(CK_OBJECT_CLASS) &&
        *static_cast<CK_OBJECT_CLASS*>(attrs[i].pValue) != CKO_PRIVATE_KEY) {
      return Error{Code::kUsage, "sign.pkcs11_uri",
                   "names an object that is not a private key (type=private)",
                   std::nullopt};
    }
  }
  p11_kit_be_quiet();
  auto modules = std::make_unique<Modules>();
  IGVMKIT_RETURN_IF_ERROR(modules->load(uri.get()));
  bool saw_token = false;
  for (CK_FUNCTION_LIST* f : modules->list()) {
    CK_INFO module_info;
    if (f->C_GetInfo(&module_info) != CKR_OK ||
        p11_kit_uri_match_module_info(uri.get(), &module_info) != 1) {
      continue;
    }
    CK_ULONG n_slots = 0;
    if (f->C_GetSlotList(CK_TRUE, nullptr, &n_slots) != CKR_OK || n_slots == 0) {
      continue;
    }
    std::vector<CK_SLOT_ID> slots(n_slots);
    if (f->C_GetSlotList(CK_TRUE, slots.data(), &n_slots) != CKR_OK) {
      continue;
    }
    slots.resize(n_slots);
    for (CK_SLOT_ID slot : slots) {
      CK_SLOT_INFO slot_info;
      CK_TOKEN_INFO token_info;
      if (f->C_GetSlotInfo(slot, &slot_info) != CKR_OK ||
          p11_kit_uri_match_slot_info(uri.get(), &slot_info) != 1 ||
          f->C_GetTokenInfo(slot, &token_info) != CKR_OK ||
          p11_kit_uri_match_token_info(uri.get(), &token_info) != 1) {
        continue;
      }
      saw_token = true;
      CK_SESSION_HANDLE session = 0;
      CK_RV rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &session);
      if (rv != CKR_OK) {
        return tokenError("sign.pkcs11_token", "cannot open a session: " + rvText(rv));
      }
      auto close = [&] { f->C_CloseSession(session); };
      if ((token_info.flags & CKF_LOGIN_REQUIRED) != 0) {
        Result<std::string> pin = pinFrom(uri.get());
        if (!pin.ok()) {
          close();
          return pin.error();
        }
        rv = f->C_Login(session, CKU_USER, reinterpret_cast<unsigned char*>(pin->data()),
                        pin->size());
        if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
          close();
          return invalid("sign.pkcs11_pin", "login failed: " + rvText(rv));
        }
      }
      std::vector<CK_OBJECT_HANDLE> keys = findObjects(f, session, uri.get(), CKO_PRIVATE_KEY, nullptr);
      if (keys.empty()) {
        close();
        continue;  // another token may match and hold it
      }
      if (keys.size() > 1) {
        close();
        return Error{Code::kUsage, "sign.pkcs11_key",
                     "names more than one private key (add object= or id=)",
                     std::nullopt};
      }
      Result<ByteVector> key_type = attribute(f, session, keys[0], CKA_KEY_TYPE);
      Result<ByteVector> params = attribute(f, session, keys[0], CKA_EC_PARAMS);
      CK_KEY_TYPE type = 0;
      if (key_type.ok() && key_type->size() == sizeof(type)) {
        std::memcpy(&type, key_type->data(), sizeof(type));
      }
      if (type != CKK_EC || !params.ok() || params->size() != sizeof(kP384Oid) ||
          std::memcmp(params->data(), kP384Oid, sizeof(kP384Oid)) != 0) {
        close();
        return invalid("id_block.key_type", "the key is not an ecdsa p-384 key");
      }
      Result<ByteVector> id = attribute(f, session, keys[0], CKA_ID);
      // The public half: the public-key object with the private key's CKA_ID.
      std::vector<CK_OBJECT_HANDLE> pubs;
      if (id.ok()) {
        pubs = findObjects(f, session, uri.get(), CKO_PUBLIC_KEY, &*id);
      }
      std::optional<measure::SNP_ECDSA_PUBLIC_KEY> public_key;
      if (pubs.size() == 1) {
        Result<ByteVector> point = attribute(f, session, pubs[0], CKA_EC_POINT);
        if (point.ok()) {
          Result<measure::SNP_ECDSA_PUBLIC_KEY> k = measure::publicKeyFromPoint(unwrapPoint(*point));
          if (!k.ok()) {
            close();
            return k.error();
          }
          public_key = *k;
        }
      }
      if (!public_key && options.public_key_pem) {
        Result<measure::SNP_ECDSA_PUBLIC_KEY> k = measure::publicKeyFromPem(*options.public_key_pem);
        if (!k.ok()) {
          close();
          return k.error();
        }
        public_key = *k;
      }
      if (!public_key) {
        close();
        return tokenError("sign.pkcs11_key", "the token has no public-key object with the private key's "
                                         "id; give the public key as pem");
      }
      return std::unique_ptr<Signer>(
          new Pkcs11Signer(shown, *public_key, std::move(modules), f, session, keys[0]));
    }
  }
  if (!saw_token) {
    return tokenError("sign.pkcs11_token", "no pkcs#11 token matches the uri");
  }
  return tokenError("sign.pkcs11_key", "no private key on the token matches the uri");
}

}  // namespace igvmkit::sign::internal

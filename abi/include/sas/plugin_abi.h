/*
 * The SAS agenda plugin boundary, version 1.5 (1.1 adds the INT_R02 account messages; 1.2 adds
 * the host calls of sas_host_api, call_host and free_bytes, and the billing messages; 1.3 adds
 * the INT_R03 appointment events as a host call, messages only; 1.4 adds the doctor settings
 * and publication rule host calls, HostRequest cases 18 to 23, messages only: no table entry,
 * no new status; 1.5 adds the INT_R04 CPTS fields of the slot search and the SOS Médecins
 * search, PluginRequest case 19, and the SOS appointment field, messages only).
 *
 * One exported C entry point (sas_plugin_negotiate), one exported manifest (sas_plugin_manifest),
 * two function tables that only ever grow at the end, and protobuf bytes
 * (package sas.plugin.v1, see abi/proto) for every request and response.
 * No C++ type, exception or allocator crosses this boundary. docs/abi.md is the reference.
 */
#ifndef SAS_PLUGIN_ABI_H
#define SAS_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions ---------------------------------------------------------------------------
 * A version is major << 16 | minor. Same major = compatible: a newer minor only appends
 * fields to the tables and messages. A different major is a new boundary. */
#define SAS_ABI_VERSION_MAJOR 1
#define SAS_ABI_VERSION_MINOR 5
#define SAS_ABI_MAKE_VERSION(major, minor) ((((uint32_t)(major)) << 16) | ((uint32_t)(minor)))
#define SAS_ABI_VERSION_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define SAS_ABI_VERSION_MINOR_OF(v) ((uint32_t)(v)&0xFFFFu)
#define SAS_ABI_VERSION SAS_ABI_MAKE_VERSION(SAS_ABI_VERSION_MAJOR, SAS_ABI_VERSION_MINOR)

/* The two exported symbols, looked up by name. */
#define SAS_PLUGIN_ENTRY_SYMBOL "sas_plugin_negotiate"
#define SAS_PLUGIN_MANIFEST_SYMBOL "sas_plugin_manifest"
/* ELF section holding the manifest, readable without loading the library. */
#define SAS_PLUGIN_MANIFEST_SECTION ".sas_manifest"

/* ---- Status codes: stable numbers, never reused ----------------------------------------- */
typedef int32_t sas_status;
#define SAS_OK 0
#define SAS_ERR_INVALID_ARGUMENT 1     /* the request is malformed or violates the contract */
#define SAS_ERR_NOT_FOUND 2            /* the addressed object does not exist */
#define SAS_ERR_ALREADY_EXISTS 3       /* a create found the object already there */
#define SAS_ERR_UNIMPLEMENTED 4        /* the plugin does not implement this method */
#define SAS_ERR_INCOMPATIBLE_VERSION 5 /* no ABI version both sides speak */
#define SAS_ERR_DEADLINE_EXCEEDED 6    /* the per-call deadline passed */
#define SAS_ERR_CANCELLED 7            /* the host cancelled the call */
#define SAS_ERR_UNAVAILABLE 8          /* a transient failure (database busy, network): retry */
#define SAS_ERR_INIT_FAILED 9          /* init could not start the plugin (bad config, no data) */
#define SAS_ERR_INTERNAL 10            /* a bug or an unexpected failure inside the plugin */

/* ---- Bytes ------------------------------------------------------------------------------
 * Bytes given to a callee are borrowed for the duration of the call only.
 * Bytes a sas_bytes returns belong to the side that allocated them and go back to it:
 * - from the plugin (invoke's response, init's error): the host releases them with
 *   sas_plugin_api.free_bytes;
 * - from the host (call_host's response, since 1.2): the plugin releases them with
 *   sas_host_api.free_bytes.
 * Never with one's own allocator. */
typedef struct sas_bytes {
  uint8_t* data;
  size_t size;
} sas_bytes;

/* ---- Services the host offers (host -> plugin) ------------------------------------------ */
#define SAS_LOG_DEBUG 0
#define SAS_LOG_INFO 1
#define SAS_LOG_WARNING 2
#define SAS_LOG_ERROR 3

typedef struct sas_host_api {
  uint32_t struct_size; /* sizeof(sas_host_api) as the host compiled it: check before use */
  uint32_t abi_version; /* the negotiated version */
  void* host_context;   /* pass back unchanged to every function below */
  /* Writes one log line through the host's logger. Thread-safe. */
  void (*log)(void* host_context, int32_t level, const char* message, size_t message_size);
  /* The host's clock: microseconds since 1970-01-01T00:00:00Z. Tests may fix it. */
  int64_t (*now_unix_micros)(void* host_context);
  /* ---- Since 1.2: present only when struct_size >= SAS_HOST_API_MIN_SIZE_1_2. ----
   * One request from the plugin to the host: `request` is a serialized
   * sas.plugin.v1.HostRequest, borrowed for the call. On SAS_OK *response holds a serialized
   * sas.plugin.v1.HostResponse; otherwise it may hold a UTF-8 message. Either way the bytes
   * belong to the host: the plugin releases them with free_bytes below (NULL data allowed).
   * Thread-safe: callable from any plugin thread, including from inside invoke, between init
   * and shutdown. The host never calls back into the plugin before it returns. */
  sas_status (*call_host)(void* host_context, const uint8_t* request, size_t request_size, sas_bytes* response);
  /* Releases bytes the host returned (call_host's response). NULL data is allowed. */
  void (*free_bytes)(sas_bytes* bytes);
  /* Entries added by later minor versions go here, at the end. */
} sas_host_api;

/* Smallest host table that has the 1.2 entries: check struct_size against it before use. */
#define SAS_HOST_API_MIN_SIZE_1_2 (offsetof(sas_host_api, free_bytes) + sizeof(void (*)(void)))

/* Per-call context: the deadline and cancellation check the plugin polls in long work. */
typedef struct sas_call_context {
  uint32_t struct_size;
  int64_t deadline_unix_micros; /* 0 = no deadline */
  void* host_call_data;         /* the host's, opaque: the plugin neither reads nor changes it */
  /* Non-zero once the host gave up on this call (deadline passed or client gone). Pass it the
   * context pointer invoke received, never a copy: the host keeps the call's state beside it. */
  int32_t (*is_cancelled)(const struct sas_call_context* context);
} sas_call_context;

/* ---- What the plugin offers (plugin -> host) -------------------------------------------- */
#define SAS_THREADING_SERIALIZED 0    /* the host never makes two calls on one instance at once */
#define SAS_THREADING_FREE_THREADED 1 /* invoke may be called from many threads at once */

typedef struct sas_plugin_instance sas_plugin_instance; /* opaque, owned by the plugin */

typedef struct sas_plugin_api {
  uint32_t struct_size; /* sizeof(sas_plugin_api) as the plugin compiled it */
  uint32_t abi_version; /* the version this table implements */
  uint32_t threading;   /* SAS_THREADING_* */
  /* Creates an instance. `config` is the host's --plugin-config string, verbatim, borrowed.
   * On failure returns non-OK, leaves *instance NULL and may put a UTF-8 reason in *error. */
  sas_status (*init)(const sas_host_api* host, const char* config, size_t config_size, sas_plugin_instance** instance,
                     sas_bytes* error);
  /* One request, one response: `request` is a serialized sas.plugin.v1.PluginRequest.
   * On SAS_OK, *response holds a serialized sas.plugin.v1.PluginResponse; otherwise it may
   * hold a UTF-8 message saying what went wrong. Never throws, never aborts. */
  sas_status (*invoke)(sas_plugin_instance* instance, const uint8_t* request, size_t request_size,
                       const sas_call_context* context, sas_bytes* response);
  /* Releases bytes this plugin returned. NULL data is allowed. */
  void (*free_bytes)(sas_bytes* bytes);
  /* Stops the instance and releases what it holds. Idempotent: a second call does nothing. */
  void (*shutdown)(sas_plugin_instance* instance);
  /* Frees the instance handle itself; shuts down first if that was not done. */
  void (*destroy)(sas_plugin_instance* instance);
  /* Entries added by later minor versions go here, at the end. */
} sas_plugin_api;

/* Smallest table a 1.0 host accepts: everything up to and including `destroy`. */
#define SAS_PLUGIN_API_MIN_SIZE_1_0 (offsetof(sas_plugin_api, destroy) + sizeof(void (*)(void)))

/* ---- The handshake ----------------------------------------------------------------------
 * The host fills the offer; the plugin fills the answer and returns:
 *   SAS_OK                        answer->abi_version and answer->api are set;
 *   SAS_ERR_INCOMPATIBLE_VERSION  no common version; answer->message says why.
 * The host then enforces its own minimum and the table size. */
typedef struct sas_negotiate_offer {
  uint32_t struct_size;
  uint32_t host_version_newest; /* newest version the host speaks */
  uint32_t host_version_oldest; /* oldest version the host still accepts */
} sas_negotiate_offer;

typedef struct sas_negotiate_answer {
  uint32_t struct_size;      /* set by the host; the plugin writes no field beyond it */
  uint32_t abi_version;      /* the version the plugin will use */
  const sas_plugin_api* api; /* static table, valid as long as the library is loaded */
  char message[256];         /* NUL-terminated reason when the answer is a refusal */
} sas_negotiate_answer;

typedef sas_status (*sas_plugin_negotiate_fn)(const sas_negotiate_offer* offer, sas_negotiate_answer* answer);

/* ---- The manifest -----------------------------------------------------------------------
 * A NUL-terminated UTF-8 text in section SAS_PLUGIN_MANIFEST_SECTION, exported as
 * SAS_PLUGIN_MANIFEST_SYMBOL, one `key=value` per line. Keys: name, vendor, version, abi
 * (major.minor), flows (comma-separated, all of them: slot-search, cpts-search, sos-search,
 * regulator-accounts, sas-billing, appointments, doctor-settings; the last two only declare that
 * the plugin reports INT_R03 events / doctor settings through host calls, the host sends nothing
 * for them), threading (serialized or free-threaded). The host reads it from the file without
 * running any plugin code. */

#ifdef __cplusplus
}
#endif

#endif /* SAS_PLUGIN_ABI_H */

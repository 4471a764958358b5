/* Broken or foreign plugins written straight against the C ABI, one per refusal the host
 * must make. Which one is built is chosen with compile definitions (see CMakeLists.txt). */
#include <sas/plugin_abi.h>
#include <stdio.h>
#include <string.h>

#ifndef MANIFEST_ABI
#define MANIFEST_ABI "1.0"
#endif
#ifndef ANSWER_MAJOR
#define ANSWER_MAJOR SAS_ABI_VERSION_MAJOR
#endif
#ifndef TABLE_SIZE
#define TABLE_SIZE sizeof(sas_plugin_api)
#endif

/* MANIFEST_PROTOBUF: the `protobuf` key (a GOOGLE_PROTOBUF_VERSION) such a plugin would carry had it
 * been compiled against that protobuf. */
#ifdef MANIFEST_PROTOBUF
#define MANIFEST_PROTOBUF_LINE "protobuf=" MANIFEST_PROTOBUF "\n"
#else
#define MANIFEST_PROTOBUF_LINE ""
#endif

__attribute__((visibility("default"), used, section(SAS_PLUGIN_MANIFEST_SECTION))) const char sas_plugin_manifest[] =
    "name=raw-c-test\nvendor=tests\nversion=0.0.1\nabi=" MANIFEST_ABI
    "\nflows=slot-search\nthreading=serialized\n" MANIFEST_PROTOBUF_LINE;

static sas_status init(const sas_host_api* host, const char* config, size_t config_size, sas_plugin_instance** instance,
                       sas_bytes* error) {
  (void)host, (void)config, (void)config_size, (void)error;
  static int dummy;
  *instance = (sas_plugin_instance*)&dummy;
  return SAS_OK;
}
static sas_status invoke(sas_plugin_instance* instance, const uint8_t* request, size_t request_size,
                         const sas_call_context* context, sas_bytes* response) {
  (void)instance, (void)request, (void)request_size, (void)context;
  response->data = NULL;
  response->size = 0;
  return SAS_ERR_UNIMPLEMENTED;
}
static void free_bytes(sas_bytes* bytes) { (void)bytes; }
static void shutdown(sas_plugin_instance* instance) { (void)instance; }
static void destroy(sas_plugin_instance* instance) { (void)instance; }

static const sas_plugin_api api = {
    TABLE_SIZE, SAS_ABI_MAKE_VERSION(ANSWER_MAJOR, 0), SAS_THREADING_SERIALIZED, init, invoke, free_bytes, shutdown,
    destroy};

#ifndef NO_ENTRY_POINT
__attribute__((visibility("default"))) sas_status sas_plugin_negotiate(const sas_negotiate_offer* offer,
                                                                       sas_negotiate_answer* answer) {
#ifdef REFUSE_HOST
  (void)offer;
  snprintf(answer->message, sizeof answer->message, "this plugin needs ABI 3.x");
  return SAS_ERR_INCOMPATIBLE_VERSION;
#else
  (void)offer;
  answer->abi_version = api.abi_version;
  answer->api = &api;
  return SAS_OK;
#endif
}
#else
__attribute__((visibility("default"))) int some_other_function(void) { return 42; }
#endif

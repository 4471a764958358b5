/* A plugin written against ABI 1.0 that declares the regulator-accounts flow but, being 1.0,
 * has no such method: every call answers SAS_ERR_UNIMPLEMENTED. The host must say so (501). */
#include <sas/plugin_abi.h>
#include <stdlib.h>
#include <string.h>

__attribute__((visibility("default"), used, section(SAS_PLUGIN_MANIFEST_SECTION))) const char sas_plugin_manifest[] =
    "name=accounts-abi-1-0\nvendor=tests\nversion=0.0.1\nabi=1.0\nflows=slot-search,regulator-accounts\n"
    "threading=serialized\n";

static sas_status init(const sas_host_api* host, const char* config, size_t config_size, sas_plugin_instance** instance,
                       sas_bytes* error) {
  (void)host, (void)config, (void)config_size, (void)error;
  static int dummy;
  *instance = (sas_plugin_instance*)&dummy;
  return SAS_OK;
}
static sas_status invoke(sas_plugin_instance* instance, const uint8_t* request, size_t request_size,
                         const sas_call_context* context, sas_bytes* response) {
  static const char message[] = "this 1.0 plugin knows no such method";
  (void)instance, (void)request, (void)request_size, (void)context;
  response->data = (uint8_t*)malloc(sizeof message - 1);
  response->size = response->data == NULL ? 0 : sizeof message - 1;
  if (response->data != NULL) memcpy(response->data, message, sizeof message - 1);
  return SAS_ERR_UNIMPLEMENTED;
}
static void free_bytes(sas_bytes* bytes) {
  free(bytes->data);
  bytes->data = NULL;
  bytes->size = 0;
}
static void shutdown(sas_plugin_instance* instance) { (void)instance; }
static void destroy(sas_plugin_instance* instance) { (void)instance; }

static const sas_plugin_api api = {SAS_PLUGIN_API_MIN_SIZE_1_0,
                                   SAS_ABI_MAKE_VERSION(1, 0),
                                   SAS_THREADING_SERIALIZED,
                                   init,
                                   invoke,
                                   free_bytes,
                                   shutdown,
                                   destroy};

__attribute__((visibility("default"))) sas_status sas_plugin_negotiate(const sas_negotiate_offer* offer,
                                                                       sas_negotiate_answer* answer) {
  (void)offer;
  answer->abi_version = api.abi_version;
  answer->api = &api;
  return SAS_OK;
}

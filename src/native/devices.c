// version() and devices(): what libpcap is, and what it can capture on
// (pcap_findalldevs: names, descriptions, flags, addresses).
#include "binding.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>

/** Writes the text of an IPv4 or IPv6 socket address; 0 for other families. */
static int address_text(const struct sockaddr *sa, char *out, size_t size) {
  if (sa == NULL) return 0;
  if (sa->sa_family == AF_INET) {
    return inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, size) != NULL;
  }
  if (sa->sa_family == AF_INET6) {
    return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, size) != NULL;
  }
  return 0;
}

napi_value version(napi_env env, napi_callback_info info) {
  (void)info;
  return make_string(env, pcap_lib_version());
}

napi_value devices(napi_env env, napi_callback_info info) {
  (void)info;
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_if_t *all = NULL;
  if (pcap_findalldevs(&all, errbuf) != 0) return throw_error(env, NULL, errbuf);
  napi_value list;
  uint32_t n = 0;
  if (napi_create_array(env, &list) != napi_ok) goto fail;
  for (pcap_if_t *dev = all; dev != NULL; dev = dev->next) {
    napi_value device, addresses;
    uint32_t k = 0;
    if (napi_create_object(env, &device) != napi_ok || !set_string(env, device, "name", dev->name)) goto fail;
    if (dev->description != NULL && !set_string(env, device, "description", dev->description)) goto fail;
    if (!set_number(env, device, "flags", dev->flags)) goto fail;
    if (napi_create_array(env, &addresses) != napi_ok) goto fail;
    for (pcap_addr_t *a = dev->addresses; a != NULL; a = a->next) {
      char text[INET6_ADDRSTRLEN];
      napi_value address;
      if (!address_text(a->addr, text, sizeof text)) continue;
      if (napi_create_object(env, &address) != napi_ok || !set_string(env, address, "addr", text)) goto fail;
      if (address_text(a->netmask, text, sizeof text) && !set_string(env, address, "netmask", text)) goto fail;
      if (address_text(a->broadaddr, text, sizeof text) && !set_string(env, address, "broadaddr", text)) goto fail;
      if (address_text(a->dstaddr, text, sizeof text) && !set_string(env, address, "dstaddr", text)) goto fail;
      if (napi_set_element(env, addresses, k++, address) != napi_ok) goto fail;
    }
    if (napi_set_named_property(env, device, "addresses", addresses) != napi_ok) goto fail;
    if (napi_set_element(env, list, n++, device) != napi_ok) goto fail;
  }
  pcap_freealldevs(all);
  return list;
fail:
  pcap_freealldevs(all);
  return throw_error(env, NULL, "cannot build the list of devices");
}

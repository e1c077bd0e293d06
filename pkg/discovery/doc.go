// Package discovery announces cuttle on the local network the way OctoPrint
// clients look for it: mDNS/DNS-SD services _octoprint._tcp and _http._tcp
// (github.com/hashicorp/mdns answers the queries) and an SSDP/UPnP root
// device whose description lives at /plugin/discovery/discovery.xml.
//
// Every announcement carries one stable per-install UUID, which Home
// Assistant also reads from GET /api/settings as plugins.discovery.upnpUuid.
//
// Announcing multicasts, so it is off unless configured; tests run it inside
// a network namespace of their own.
package discovery

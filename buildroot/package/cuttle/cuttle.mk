################################################################################
#
# cuttle
#
################################################################################

# Built from the checkout this tree lives in (local site method). Buildroot
# builds Go packages offline (GOPROXY=off, -mod=vendor) and does not vendor
# local sources, so the tree must carry vendor/: scripts/build-image stages a
# copy of the checkout and runs `go mod vendor` in it. CUTTLE_RELEASE (set by
# scripts/build-image from git) is the version stamped into the binary.
CUTTLE_RELEASE ?= local
CUTTLE_VERSION = $(CUTTLE_RELEASE)
CUTTLE_SITE = $(BR2_EXTERNAL_CUTTLE_PATH)/..
CUTTLE_SITE_METHOD = local
CUTTLE_LICENSE = Apache-2.0
CUTTLE_LICENSE_FILES = LICENSE
CUTTLE_GOMOD = github.com/cuttleprint/cuttle
CUTTLE_BUILD_TARGETS = cmd/cuttle
CUTTLE_LDFLAGS = -s -w -X github.com/cuttleprint/cuttle/pkg/version.Version=$(CUTTLE_VERSION)
# The same fully static binary scripts/cross-build makes and CI tests.
CUTTLE_GO_ENV = CGO_ENABLED=0

# A fixed uid/gid: files on /data keep their owner across image updates.
define CUTTLE_USERS
	cuttle 600 cuttle 600 * - - dialout,gpio,video cuttle 3D-printer host
endef

define CUTTLE_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/systemd/cuttle.service \
		$(TARGET_DIR)/usr/lib/systemd/system/cuttle.service
	$(INSTALL) -D -m 0644 $(@D)/systemd/cuttle-bootconfig.service \
		$(TARGET_DIR)/usr/lib/systemd/system/cuttle-bootconfig.service
	$(INSTALL) -D -m 0644 $(@D)/systemd/cuttle.tmpfiles \
		$(TARGET_DIR)/usr/lib/tmpfiles.d/cuttle.conf
	$(INSTALL) -D -m 0644 $(@D)/systemd/60-cuttle.rules \
		$(TARGET_DIR)/usr/lib/udev/rules.d/60-cuttle.rules
endef

$(eval $(golang-package))

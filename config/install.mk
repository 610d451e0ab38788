# config/install.mk -- make install, make uninstall and make deb; included
# from the top-level Makefile.
#
#   make install [PREFIX=/usr/local] [DESTDIR=...] [bindir=... sysconfdir=... ...]
#   make uninstall                  (with the same variables)
#   make deb                        build/deb/egress-sensor_VERSION_ARCH.deb
#
# The directories are the GNU ones, with one habit of Debian's: under a
# system prefix (/usr or /usr/local) the configuration goes to /etc and the
# state to /var/lib, where systemd's StateDirectory= and logrotate look;
# under any other prefix (/opt/egress-sensor, a test's folder) everything
# stays beneath it. Each can be given on the command line; PREFIX also in
# the environment.
#
# What goes where (PREFIX=/usr/local):
#   $(bindir)/egress-sensor                           /usr/local/bin
#   $(sysconfdir)/egress-sensor/sensor.conf            /etc/egress-sensor (kept if present)
#   $(datadir)/egress-sensor/signatures/*.conf         /usr/local/share/egress-sensor
#   $(datadir)/egress-sensor/report-template.html      and its licence notice
#   $(datadir)/egress-sensor/geo/fetch-geo.sh          the geo fetcher and builder
#   $(datadir)/egress-sensor/schema/*.schema.json      the JSON Schemas of the records and
#                                                      documents (config/schema/, and the
#                                                      report's data, sensor/report/)
#   $(localstatedir)/lib/egress-sensor/geo/            /var/lib/egress-sensor/geo: the geo
#                                                      databases, copied from $(GEO_DIR)
#                                                      when "make geo" made them
#   $(mandir)/man8/egress-sensor.8, man5/egress-sensor.conf.5
#   $(unitdir)/egress-sensor.service                   /usr/local/lib/systemd/system
#   $(sysusersdir)/egress-sensor.conf                  /usr/local/lib/sysusers.d
#   $(logrotatedir)/egress-sensor                      /etc/logrotate.d
#   $(docdir)/README.md                                /usr/local/share/doc/egress-sensor
#
# The installed program is not build/egress-sensor: it is built in
# $(INSTALL_B) with SENSOR_SYSCONFDIR, SENSOR_DATADIR and
# SENSOR_LOCALSTATEDIR defined (sensor/config.h), so that its defaults are
# the installed files and it runs from any folder; build/egress-sensor
# keeps the repository's relative paths. Only the objects that use the
# paths are rebuilt when they change ($(INSTALL_B)/install-paths).

PREFIX ?= /usr/local
prefix = $(PREFIX)
exec_prefix = $(prefix)
# bindir, not sbindir: most runs read captures, as any user (Debian keeps
# tcpdump, with its section 8 page, in /usr/bin for the same reason).
bindir = $(exec_prefix)/bin
libdir = $(exec_prefix)/lib
datarootdir = $(prefix)/share
datadir = $(datarootdir)
mandir = $(datarootdir)/man
docdir = $(datarootdir)/doc/egress-sensor
SYSTEM_PREFIX = $(filter /usr /usr/local,$(patsubst %/,%,$(prefix)))
sysconfdir = $(if $(SYSTEM_PREFIX),/etc,$(prefix)/etc)
localstatedir = $(if $(SYSTEM_PREFIX),/var,$(prefix)/var)
# Debian 12 keeps the units of its packages in /lib/systemd/system.
unitdir = $(if $(filter /usr,$(patsubst %/,%,$(prefix))),/lib/systemd/system,$(libdir)/systemd/system)
sysusersdir = $(libdir)/sysusers.d
logrotatedir = $(sysconfdir)/logrotate.d

pkgconfdir = $(sysconfdir)/egress-sensor
pkgdatadir = $(datadir)/egress-sensor
pkgstatedir = $(localstatedir)/lib/egress-sensor

INSTALL ?= install
INSTALL_B := build/install
INSTALL_PROG := $(INSTALL_B)/egress-sensor

# The installed files name the installed paths. The sources (unit, man
# pages, logrotate file) are written with those of the default install
# (PREFIX=/usr/local), which these expressions turn into the chosen ones;
# the configuration's relative paths become the installed folders, and its
# example sensor_name is commented out so that each sensor is named after
# its host.
INSTALL_SED := sed \
	-e 's|/usr/local/bin/egress-sensor|$(bindir)/egress-sensor|g' \
	-e 's|/usr/local/share/doc/egress-sensor|$(docdir)|g' \
	-e 's|/usr/local/share/egress-sensor|$(pkgdatadir)|g' \
	-e 's|/etc/egress-sensor|$(pkgconfdir)|g' \
	-e 's|/var/lib/egress-sensor|$(pkgstatedir)|g'
CONF_SED := $(INSTALL_SED) \
	-e 's|"geo/data/|"$(pkgstatedir)/geo/|g' \
	-e 's|"config/signatures"|"$(pkgdatadir)/signatures"|g' \
	-e 's|"build/report/report-template.html"|"$(pkgdatadir)/report-template.html"|g' \
	-e 's|^sensor_name = |\# sensor_name = |'
# The man pages write a path's hyphens as roff's "\-".
man_path = $(subst -,\\-,$(1))
MAN_SED := sed \
	-e 's|/usr/local/bin/egress\\-sensor|$(call man_path,$(bindir)/egress-sensor)|g' \
	-e 's|/usr/local/share/doc/egress\\-sensor|$(call man_path,$(docdir))|g' \
	-e 's|/usr/local/share/egress\\-sensor|$(call man_path,$(pkgdatadir))|g' \
	-e 's|/usr/local/lib/systemd/system|$(call man_path,$(unitdir))|g' \
	-e 's|/usr/local/lib/sysusers\.d|$(call man_path,$(sysusersdir))|g' \
	-e 's|/etc/logrotate\.d|$(call man_path,$(logrotatedir))|g' \
	-e 's|/etc/egress\\-sensor|$(call man_path,$(pkgconfdir))|g' \
	-e 's|/var/lib/egress\\-sensor|$(call man_path,$(pkgstatedir))|g' \
	-e 's|"egress-sensor [0-9][^"]*"|"egress-sensor $(VERSION)"|'

MAN_PAGES := config/man/egress-sensor.8 config/man/egress-sensor.conf.5

.PHONY: install install-build uninstall deb deps-deb install-test deb-test man-test FORCE

# The installed build: the same sources, its own objects.
ifeq ($(INSTALLED_BUILD),1)
PATH_DEFS = -DSENSOR_SYSCONFDIR='"$(sysconfdir)"' -DSENSOR_DATADIR='"$(datadir)"' \
	-DSENSOR_LOCALSTATEDIR='"$(localstatedir)"'
PATH_USERS := $(shell grep -l 'CONFIG_DEFAULT_\|SENSOR_[A-Z]*DIR' $(LIB_SRCS) $(MAIN_SRCS))
$(PATH_USERS:%.c=$(B)/%.o): $(B)/install-paths
$(B)/install-paths: FORCE
	@mkdir -p $(@D)
	$(Q)printf '%s\n' '$(sysconfdir)' '$(datadir)' '$(localstatedir)' > $@.new; \
	if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi
endif
FORCE:

# Paths go into C strings, sed expressions and the unit: absolute, and
# without quotes, spaces, '|' or '\'.
INSTALL_DIRS = $(bindir) $(sysconfdir) $(datadir) $(localstatedir) $(mandir) $(docdir) \
	$(unitdir) $(sysusersdir) $(logrotatedir)
check_dirs = $(foreach d,$(INSTALL_DIRS),$(if $(filter /%,$(d)),,$(error make install: $(d) is not an absolute path))) \
	$(if $(findstring ",$(INSTALL_DIRS))$(findstring ',$(INSTALL_DIRS))$(findstring |,$(INSTALL_DIRS))$(findstring \,$(INSTALL_DIRS)),$(error make install: a directory holds a quote, '|' or '\'))

install-build:
	$(call check_dirs)
	$(Q)$(MAKE) --no-print-directory B=$(INSTALL_B) INSTALLED_BUILD=1 $(INSTALL_PROG)

install: install-build $(REPORT_TEMPLATE)
	@echo "  INSTALL $(DESTDIR)$(prefix)"
	$(Q)$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(pkgconfdir) $(DESTDIR)$(pkgdatadir)/signatures \
		$(DESTDIR)$(pkgdatadir)/schema \
		$(DESTDIR)$(pkgdatadir)/geo $(DESTDIR)$(pkgstatedir)/geo $(DESTDIR)$(mandir)/man8 \
		$(DESTDIR)$(mandir)/man5 $(DESTDIR)$(unitdir) $(DESTDIR)$(sysusersdir) \
		$(DESTDIR)$(logrotatedir) $(DESTDIR)$(docdir)
	$(Q)$(INSTALL) -m 0755 $(INSTALL_PROG) $(DESTDIR)$(bindir)/egress-sensor
	$(Q)$(CONF_SED) config/sensor.conf > $(INSTALL_B)/sensor.conf
	$(Q)if [ -e $(DESTDIR)$(pkgconfdir)/sensor.conf ] && \
		! cmp -s $(INSTALL_B)/sensor.conf $(DESTDIR)$(pkgconfdir)/sensor.conf; then \
		$(INSTALL) -m 0644 $(INSTALL_B)/sensor.conf $(DESTDIR)$(pkgconfdir)/sensor.conf.new; \
		echo "  KEPT    $(DESTDIR)$(pkgconfdir)/sensor.conf (the new one is sensor.conf.new)"; \
	else \
		$(INSTALL) -m 0644 $(INSTALL_B)/sensor.conf $(DESTDIR)$(pkgconfdir)/sensor.conf; \
	fi
	$(Q)$(INSTALL) -m 0644 config/signatures/*.conf $(DESTDIR)$(pkgdatadir)/signatures/
	$(Q)$(INSTALL) -m 0644 config/schema/*.schema.json sensor/report/report-data.schema.json \
		$(DESTDIR)$(pkgdatadir)/schema/
	$(Q)$(INSTALL) -m 0644 $(REPORT_TEMPLATE) $(DESTDIR)$(pkgdatadir)/report-template.html
	$(Q)awk '/^\/\*!$$/ { keep = 1 } keep { print } keep && /^ \*\/$$/ { exit }' $(REPORT_TEMPLATE) \
		| sed '/^\/\*!$$/d; /^ \*\/$$/d; s|^ \* \{0,1\}||; s|^ \*$$||' > $(INSTALL_B)/report-template.NOTICE
	$(Q)grep -q 'Chart.js' $(INSTALL_B)/report-template.NOTICE || \
		{ echo "make install: no Chart.js licence comment in $(REPORT_TEMPLATE)"; exit 1; }
	$(Q)$(INSTALL) -m 0644 $(INSTALL_B)/report-template.NOTICE $(DESTDIR)$(pkgdatadir)/
	$(Q)$(INSTALL) -m 0755 geo/fetch-geo.sh geo/build-mmdb.pl $(DESTDIR)$(pkgdatadir)/geo/
	$(Q)for f in dbip-country.mmdb asn.mmdb; do \
		if [ -s $(GEO_DIR)/$$f ]; then \
			$(INSTALL) -m 0644 $(GEO_DIR)/$$f $(DESTDIR)$(pkgstatedir)/geo/ || exit 1; \
			echo "  GEO     $(DESTDIR)$(pkgstatedir)/geo/$$f (from $(GEO_DIR))"; \
		fi; \
	done; \
	for f in $(GEO_DIR)/*LICENSE* $(GEO_DIR)/SOURCES; do \
		[ ! -f "$$f" ] || $(INSTALL) -m 0644 "$$f" $(DESTDIR)$(pkgstatedir)/geo/ || exit 1; \
	done
	$(Q)$(MAN_SED) config/man/egress-sensor.8 > $(INSTALL_B)/egress-sensor.8
	$(Q)$(MAN_SED) config/man/egress-sensor.conf.5 > $(INSTALL_B)/egress-sensor.conf.5
	$(Q)$(INSTALL) -m 0644 $(INSTALL_B)/egress-sensor.8 $(DESTDIR)$(mandir)/man8/
	$(Q)$(INSTALL) -m 0644 $(INSTALL_B)/egress-sensor.conf.5 $(DESTDIR)$(mandir)/man5/
	$(Q)$(INSTALL_SED) config/egress-sensor.service > $(INSTALL_B)/egress-sensor.service
	$(Q)$(INSTALL) -m 0644 $(INSTALL_B)/egress-sensor.service $(DESTDIR)$(unitdir)/
	$(Q)$(INSTALL) -m 0644 config/egress-sensor.sysusers $(DESTDIR)$(sysusersdir)/egress-sensor.conf
	$(Q)$(INSTALL_SED) config/egress-sensor.logrotate > $(INSTALL_B)/egress-sensor.logrotate
	$(Q)$(INSTALL) -m 0644 $(INSTALL_B)/egress-sensor.logrotate $(DESTDIR)$(logrotatedir)/egress-sensor
	$(Q)$(INSTALL) -m 0644 README.md $(DESTDIR)$(docdir)/
	$(Q)$(INSTALL) -m 0644 config/signatures/README.md $(DESTDIR)$(docdir)/signatures.md
	@echo "  DONE    $(DESTDIR)$(bindir)/egress-sensor reads $(pkgconfdir)/sensor.conf"

# Everything install wrote, but the configuration when it was changed, the
# geo databases and the state folder (alerts, spool): those are the
# operator's.
uninstall:
	@echo "  UNINSTALL $(DESTDIR)$(prefix)"
	$(Q)rm -f $(DESTDIR)$(bindir)/egress-sensor $(DESTDIR)$(mandir)/man8/egress-sensor.8 \
		$(DESTDIR)$(mandir)/man5/egress-sensor.conf.5 $(DESTDIR)$(unitdir)/egress-sensor.service \
		$(DESTDIR)$(sysusersdir)/egress-sensor.conf $(DESTDIR)$(logrotatedir)/egress-sensor \
		$(DESTDIR)$(pkgconfdir)/sensor.conf.new
	$(Q)rm -rf $(DESTDIR)$(pkgdatadir) $(DESTDIR)$(docdir)
	$(Q)$(CONF_SED) config/sensor.conf | cmp -s - $(DESTDIR)$(pkgconfdir)/sensor.conf && \
		rm -f $(DESTDIR)$(pkgconfdir)/sensor.conf; \
	rmdir $(DESTDIR)$(pkgconfdir) 2>/dev/null; \
	if [ -e $(DESTDIR)$(pkgconfdir)/sensor.conf ]; then \
		echo "  KEPT    $(DESTDIR)$(pkgconfdir)/sensor.conf (changed)"; fi; \
	if [ -d $(DESTDIR)$(pkgstatedir) ]; then echo "  KEPT    $(DESTDIR)$(pkgstatedir)"; fi

# ---------------------------------------------------------------- deb

# make deb: the tree (its files under version control and any new ones not
# ignored; without git, the fixed top-level folders) copied to
# build/deb/egress-sensor-VERSION with config/debian/ as its debian/, and
# the Chart.js tarball make report keeps in build/report/ in
# debian/report-cache/, so that the package build needs no network; then
# dpkg-buildpackage -b there. Its log is build/deb/build.log; the package
# build/deb/egress-sensor_VERSION_ARCH.deb. DEB_BUILD_OPTIONS passes through
# (nostrip, parallel=N, ...).
DEB_DIR := build/deb
DEB_TREE := $(DEB_DIR)/egress-sensor-$(VERSION)
DEB_FILE = $(DEB_DIR)/egress-sensor_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null).deb
DEB_PACKAGING_BUILD := $(DEB_BUILD) debhelper dpkg-dev openssl

deps-deb:
	$(call apt_install,$(DEB_PACKAGING_BUILD))

deb: deps-deb $(REPORT_TEMPLATE)
	$(Q)v=$$(dpkg-parsechangelog -l config/debian/changelog -S Version) && [ "$$v" = "$(VERSION)" ] || \
		{ echo "make deb: config/debian/changelog is at $$v, the Makefile at $(VERSION)"; exit 1; }
	@echo "  DEB     $(DEB_TREE)"
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_TREE)/debian/report-cache
	$(Q)if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard; \
	else \
		find Makefile README.md .clang-format sensor dissectors geo config tests pcaps \
			-path tests/node_modules -prune -o -type f -print0; \
	fi | tar --null --files-from=- --ignore-failed-read -cf - | tar -xf - -C $(DEB_TREE)
	$(Q)cp -R config/debian/. $(DEB_TREE)/debian/
	$(Q)cp $(REPORT_DIR)/chart.js-*.tgz $(DEB_TREE)/debian/report-cache/
	$(Q)cd $(DEB_TREE) && dpkg-buildpackage -b -us -uc > ../build.log 2>&1 || \
		{ tail -40 ../build.log; echo "make deb: dpkg-buildpackage failed, see $(DEB_DIR)/build.log"; exit 1; }
	@echo "  DONE    $(DEB_FILE)"

# ---------------------------------------------------------------- tests

# The man pages against the program: every option of sensor/options.c (and
# of --help) in egress-sensor.8, every key of cfg_keys[] in
# egress-sensor.conf.5, both rendered by man without a warning.
man-test: $(PROG)
	$(Q)python3 tests/man_test.py --sensor $(PROG)

# make install PREFIX=<a temporary folder>, then the installed sensor run
# from / on a bundled capture with the test geo databases where it looks;
# the installed man pages and unit checked; reinstall, DESTDIR and
# uninstall. Needs no root.
install-test: $(PROG) $(TEST_MMDB) $(REPORT_TEMPLATE)
	$(Q)python3 tests/install_test.py --sensor $(PROG) --geo $(B)/tests/geo

# make deb, then the package's contents and lintian; as root, apt-get
# install of the package from a temporary folder, the user, the unit left
# disabled, the program run from /, then apt-get purge.
deb-test: deb
	$(Q)python3 tests/deb_test.py --deb $(DEB_FILE)

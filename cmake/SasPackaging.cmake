# Debian packages of the project, built by CPack from this build tree (docs/operations.md):
#   cmake --build build --target package      (or: cd build && cpack)
# One package per install COMPONENT:
#   host        -> sas-host         sas-host, sas-plugin-runner, the reference plugin, libsasplugin_proto.so.1,
#                                   the billing rules, the systemd unit, /etc/sas/host.conf, man page
#   sdk         -> sas-sdk-dev      headers, libsassdk.a, the libsasplugin_proto.so link, the CMake package,
#                                   the .proto, the plugin template
#   conformance -> sas-conformance  the certification suite
#   sim         -> sas-sim          sas-sim and sas-sample-agenda
# The packages install under /usr whatever CMAKE_INSTALL_PREFIX is; paths inside them follow
# GNUInstallDirs as configured (lib/, or lib/<multiarch>/ when configured with the prefix /usr).

set(SAS_PACKAGE_PREFIX /usr)
set(SAS_PACKAGE_PLUGIN_DIR ${SAS_PACKAGE_PREFIX}/${SAS_PLUGIN_INSTALL_DIR})
set(SAS_PACKAGE_MAINTAINER "SAS SDK maintainers <maintainers@users.noreply.r-seed-5d3d5c12.example>")
set(SAS_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)
set(SAS_PACKAGING_BINARY_DIR ${PROJECT_BINARY_DIR}/packaging)

# The Debian revision comes from the latest entry of packaging/changelog, which must be about
# this version: a version bump needs its changelog entry (lintian and apt read it).
file(STRINGS ${SAS_PACKAGING_DIR}/changelog changelog_head LIMIT_COUNT 1)
if(NOT changelog_head MATCHES "^sas-sdk \\(([0-9.]+)-([0-9]+)\\) ")
  message(FATAL_ERROR "packaging/changelog: the first line must be `sas-sdk (VERSION-REVISION) ...`")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "packaging/changelog's latest entry is ${CMAKE_MATCH_1}, the project is ${PROJECT_VERSION}: "
    "add a changelog entry for ${PROJECT_VERSION}")
endif()
set(SAS_DEBIAN_REVISION ${CMAKE_MATCH_2})

# ---- Files that only the packages install (EXCLUDE_FROM_ALL: not by a plain `cmake --install`,
# whose prefix is not /usr and whose /etc is not the system's) ----
configure_file(${SAS_PACKAGING_DIR}/host.conf.in ${SAS_PACKAGING_BINARY_DIR}/host.conf @ONLY)
install(FILES ${SAS_PACKAGING_BINARY_DIR}/host.conf DESTINATION /etc/sas COMPONENT host EXCLUDE_FROM_ALL)
install(FILES ${SAS_PACKAGING_DIR}/sas-host.service DESTINATION lib/systemd/system COMPONENT host EXCLUDE_FROM_ALL)

# Debian policy 12.5 and 12.7: every package has its copyright and its changelog (gzip -9n).
add_custom_command(OUTPUT ${SAS_PACKAGING_BINARY_DIR}/changelog.Debian.gz
  COMMAND gzip -9n -c ${SAS_PACKAGING_DIR}/changelog > ${SAS_PACKAGING_BINARY_DIR}/changelog.Debian.gz
  DEPENDS ${SAS_PACKAGING_DIR}/changelog VERBATIM)
set(doc_files ${SAS_PACKAGING_DIR}/copyright ${SAS_PACKAGING_BINARY_DIR}/changelog.Debian.gz)
set(doc_outputs ${SAS_PACKAGING_BINARY_DIR}/changelog.Debian.gz)

# Manual pages from each tool's --help (help2man, Debian's package of it); sas-host's also holds
# `sas-host serve --help`, the options operations look for.
find_program(SAS_HELP2MAN help2man)
set(man_pages)
# (Not in sanitizer builds, which are never packaged: no need to run their binaries at build time.)
if(SAS_HELP2MAN AND NOT CMAKE_CROSSCOMPILING AND NOT SAS_SANITIZE AND NOT SAS_TSAN)
  foreach(page "sas-host|host|the SAS integration host (SAS FHIR endpoint, tools)|serve"
               "sas-sim|sim|SAS platform simulator and test-data tools|"
               "sas-sample-agenda|sim|sample agenda web app with the origin=sas booking path|"
               "sas-conformance|conformance|SAS certification suite for an endpoint or a plugin|")
    string(REPLACE "|" ";" page "${page}")
    list(GET page 0 tool)
    list(GET page 1 component)
    list(GET page 2 description)
    list(GET page 3 subcommands)
    set(out ${SAS_PACKAGING_BINARY_DIR}/man/${tool}.1.gz)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${SAS_PACKAGING_BINARY_DIR}/man
      COMMAND ${SAS_PACKAGING_DIR}/help2man.sh ${SAS_HELP2MAN} ${out} $<TARGET_FILE:${tool}> ${PROJECT_VERSION}
              "${description}" ${subcommands}
      DEPENDS ${tool} ${SAS_PACKAGING_DIR}/help2man.sh VERBATIM)
    list(APPEND man_pages ${out})
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${component})
  endforeach()
else()
  message(STATUS "No manual pages (help2man not found, or a sanitizer build)")
endif()
add_custom_target(sas_package_files ALL DEPENDS ${doc_outputs} ${man_pages})

# ---- CPack ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sas-sdk)
set(CPACK_PACKAGE_VENDOR "SAS SDK maintainers")
set(CPACK_PACKAGE_CONTACT "${SAS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# Each package has its own summary: the first line of its CPACK_DEBIAN_<COMPONENT>_DESCRIPTION.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_PACKAGING_INSTALL_PREFIX ${SAS_PACKAGE_PREFIX})
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
# Absolute destinations (/etc/sas) go into the package's tree, never into this machine's /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX ${SAS_PACKAGE_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL host sdk conformance sim)
set(CPACK_COMPONENTS_GROUPING IGNORE)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${SAS_DEBIAN_REVISION})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SAS_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends on Debian's runtime libraries from dpkg-shlibdeps, which reads what each binary links
# and the shlibs/symbols files of the installed libraries: exact package names and minimum
# versions for this build, never a hand-kept list that drifts from the link lines.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libsasplugin_proto.so.1 is in sas-host (see below): let dpkg-shlibdeps find it for the other
# packages; their Depends on sas-host is explicit.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/${CMAKE_INSTALL_LIBDIR})
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")

set(exact_version "${PROJECT_VERSION}-${SAS_DEBIAN_REVISION}")

set(CPACK_DEBIAN_HOST_PACKAGE_NAME sas-host)
set(CPACK_DEBIAN_HOST_PACKAGE_SECTION net)
# adduser: postinst creates the user (deb-systemd-helper and -invoke: init-system-helpers, essential).
set(CPACK_DEBIAN_HOST_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_HOST_DESCRIPTION "SAS integration host: the SAS FHIR endpoint of a practice agenda
sas-host serves the French Service d'Acces aux Soins (SAS) FHIR interfaces
over mutual TLS for a practice-agenda software, through the vendor's plugin:
slot searches (INT_R01, CPTS, SOS Medecins), regulator accounts (INT_R02),
appointment notifications (INT_R03), SNP / MRT billing rules and doctors'
options.

This package holds the host, its plugin runner, the reference SQLite agenda
plugin, the plugin ABI library libsasplugin_proto, and the systemd service
sas-host.service, which runs as the system user sas with /etc/sas/host.conf.")
set(CPACK_DEBIAN_HOST_PACKAGE_CONTROL_EXTRA
  ${SAS_PACKAGING_DIR}/conffiles ${SAS_PACKAGING_DIR}/postinst ${SAS_PACKAGING_DIR}/prerm
  ${SAS_PACKAGING_DIR}/postrm ${SAS_PACKAGING_DIR}/triggers)
set(CPACK_DEBIAN_HOST_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_SDK_PACKAGE_NAME sas-sdk-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
# The CMake package: find_dependency(Protobuf) and (date), and SasSdk_HOST_EXECUTABLE; plugins
# link the host's own libsasplugin_proto (one copy per process).
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS
  "sas-host (= ${exact_version}), libprotobuf-dev, protobuf-compiler, libhowardhinnant-date-dev")
set(CPACK_DEBIAN_SDK_PACKAGE_RECOMMENDS "cmake (>= 3.25), g++ (>= 4:12)")
# Only SasSdk::panel_token (a vendor back end minting the doctor's panel tokens) links these.
set(CPACK_DEBIAN_SDK_PACKAGE_SUGGESTS "libssl-dev, libboost-json1.81-dev")
set(CPACK_DEBIAN_SDK_DESCRIPTION "SAS integration SDK: headers and CMake package for agenda plugins
What a practice-agenda vendor compiles a sas-host plugin against: the C ABI
header, the protobuf messages, the C++ plugin base class and helpers
(libsassdk.a), the doctor's panel token for a vendor's back end
(libsassdk_panel_token.a), the CMake package found with
find_package(SasSdk CONFIG) and its sas_add_plugin() function, and plugin
templates, one folder per flow, in /usr/share/sas/samples/plugin-template.")

set(CPACK_DEBIAN_CONFORMANCE_PACKAGE_NAME sas-conformance)
set(CPACK_DEBIAN_CONFORMANCE_PACKAGE_SECTION net)
# Links libsasplugin_proto and judges with the host's billing rules (plugin mode).
set(CPACK_DEBIAN_CONFORMANCE_PACKAGE_DEPENDS "sas-host (= ${exact_version})")
set(CPACK_DEBIAN_CONFORMANCE_DESCRIPTION "SAS certification suite for agenda endpoints and plugins
sas-conformance runs the SAS certification checks against a live endpoint
over mutual TLS (slot, CPTS and SOS Medecins searches, TLS refusals) or
against a plugin library, and writes JSON, JUnit and HTML reports. It needs
the SAS FHIR implementation guide package (ans.fhir.fr.sas 1.2.0), given
with --ig or SAS_IG_DIR.")

set(CPACK_DEBIAN_SIM_PACKAGE_NAME sas-sim)
set(CPACK_DEBIAN_SIM_PACKAGE_SECTION net)
set(CPACK_DEBIAN_SIM_DESCRIPTION "SAS platform simulator, test PKI and sample agenda
sas-sim generates realistic agendas and a throw-away test PKI, plays the SAS
platform's searches and load against an endpoint, and serves the platform's
INT_R03 appointment endpoint. sas-sample-agenda is a minimal agenda web
application showing the origin=sas booking path. Tools for development and
tests, not for production.")

# Each package's copyright, changelog and lintian overrides (each override says why).
foreach(component host sdk conformance sim)
  string(TOUPPER ${component} upper)
  set(package ${CPACK_DEBIAN_${upper}_PACKAGE_NAME})
  install(FILES ${doc_files} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package}
    COMPONENT ${component} EXCLUDE_FROM_ALL)
  install(FILES ${SAS_PACKAGING_DIR}/lintian-overrides/${package} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides
    COMPONENT ${component} EXCLUDE_FROM_ALL)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/configuration.md
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/sas-host COMPONENT host EXCLUDE_FROM_ALL)

include(CPack)

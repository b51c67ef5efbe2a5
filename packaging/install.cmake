# Install layout and the Debian package (CPack DEB). Included from the top-level CMakeLists.txt.
#   cmake --install build --prefix /usr      binary, unit, sysusers/tmpfiles, example config, docs
#   (cd build && cpack -G DEB)                h2r_<version>_<arch>.deb
# The unit, sysusers.d and tmpfiles.d files go under lib/ of the prefix (/usr/lib/systemd/system, ...),
# as Debian wants; with the default /usr/local prefix they land in /usr/local/lib/systemd/system,
# which systemd also reads.
include(GNUInstallDirs)

set(H2R_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING "systemd unit folder, relative to the prefix")
set(H2R_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING "sysusers.d folder, relative to the prefix")
set(H2R_TMPFILES_DIR "lib/tmpfiles.d" CACHE STRING "tmpfiles.d folder, relative to the prefix")

install(TARGETS h2rd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/systemd/h2rd.service DESTINATION ${H2R_SYSTEMD_UNIT_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/systemd/h2rd.sysusers.conf DESTINATION ${H2R_SYSUSERS_DIR} RENAME h2r.conf)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/h2rd.tmpfiles.conf DESTINATION ${H2R_TMPFILES_DIR} RENAME h2r.conf)
# The config: /etc/h2r/h2rd.yaml, the example with the production paths of the unit
# (/var/lib/h2r, /etc/h2r/rules.yaml). A Debian conffile (packaging/debian/conffiles): an upgrade never
# overwrites the admin's edits. The rules file stays an example to copy (docs/operations.md): a package
# must not decide who gets a Zoom account.
set(H2R_CONFIG_DIR "/etc/h2r" CACHE PATH "where the package puts h2rd.yaml (absolute)")
file(READ ${PROJECT_SOURCE_DIR}/config/h2rd.example.yaml h2r_config_text)
foreach(pair "database: h2r.db|database: /var/lib/h2r/h2r.db" "inbox: inbox|inbox: /var/lib/h2r/inbox"
             "rules: rules.yaml|rules: /etc/h2r/rules.yaml" "secret_key_file: secret.key|secret_key_file: /var/lib/h2r/secret.key")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 from)
  list(GET pair 1 to)
  string(REGEX REPLACE "\n${from}\n" "\n${to}\n" h2r_config_text "${h2r_config_text}")
endforeach()
# The console's token file sits beside the database: the daemon writes it, and may write only below
# /var/lib/h2r (a relative name would land in /etc/h2r, where h2rd could not create it and would not start).
string(REPLACE "\n  tokens: h2r.db.console-tokens " "\n  tokens: /var/lib/h2r/h2r.db.console-tokens "
       h2r_config_text "${h2r_config_text}")
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/packaging/h2rd.yaml "${h2r_config_text}")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/packaging/h2rd.yaml DESTINATION ${H2R_CONFIG_DIR})
# Examples, not live config: the admin copies rules.example.yaml to /etc/h2r (docs/operations.md).
foreach(example h2rd.example.yaml rules.example.yaml)
  if(EXISTS ${PROJECT_SOURCE_DIR}/config/${example})
    install(FILES ${PROJECT_SOURCE_DIR}/config/${example} DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/h2r/examples)
  endif()
endforeach()
# The drop-in that grants CAP_LEASE (docs/operations.md): an example, installed by the admin who needs it.
install(FILES ${PROJECT_SOURCE_DIR}/systemd/h2rd-lease.conf DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/h2r/examples)
if(EXISTS ${PROJECT_SOURCE_DIR}/config/examples)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/config/examples/ DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/h2r/examples/events)
endif()
# Man pages docs/man/NAME.N -> share/man/manN/NAME.N.gz, compressed with gzip -9n (no name or time
# stamp: reproducible) as Debian policy wants; uncompressed when there is no gzip.
file(GLOB h2r_man_pages CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/*.[1-9])
find_program(H2R_GZIP gzip)
set(h2r_man_outputs)
foreach(page ${h2r_man_pages})
  get_filename_component(page_name ${page} NAME)
  string(REGEX REPLACE "^.*\\.([1-9])$" "\\1" page_section ${page_name})
  if(H2R_GZIP)
    set(page_gz ${CMAKE_BINARY_DIR}/man/${page_name}.gz)
    add_custom_command(OUTPUT ${page_gz}
                       COMMAND ${CMAKE_COMMAND} -E copy ${page} ${CMAKE_BINARY_DIR}/man/${page_name}
                       COMMAND ${H2R_GZIP} -9nf ${CMAKE_BINARY_DIR}/man/${page_name}
                       DEPENDS ${page} VERBATIM)
    list(APPEND h2r_man_outputs ${page_gz})
    install(FILES ${page_gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${page_section})
  else()
    install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${page_section})
  endif()
endforeach()
if(h2r_man_outputs)
  add_custom_target(h2r_man_pages ALL DEPENDS ${h2r_man_outputs})
endif()
foreach(doc docs/operations.md README.md)
  if(EXISTS ${PROJECT_SOURCE_DIR}/${doc})
    install(FILES ${PROJECT_SOURCE_DIR}/${doc} DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/h2r)
  endif()
endforeach()

# ---- CPack: a .deb --------------------------------------------------------------------------------
set(CPACK_PACKAGE_NAME "h2r")
set(CPACK_PACKAGE_VENDOR "h2r")
set(CPACK_PACKAGE_CONTACT "h2r maintainers <h2r@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Provisioning daemon: HR event files to Zoom SCIM2 (hire to retire)")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)          # dpkg-shlibdeps: libssl3, libsqlite3-0, libyaml-cpp0.7, ...
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd (>= 247), tzdata")
set(CPACK_STRIP_FILES ON)                      # the binary ships stripped (about 65 MB with symbols)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_GENERATOR "DEB")
include(CPack)

/*
 * daemon.h - `certwatch run`: the hot-reload daemon under systemd.
 */
#pragma once

/*
 * Runs until SIGTERM or SIGINT.  only_service: guard just this service
 * (certwatch@NAME), or NULL for all.  Returns an exit status.
 */
int daemon_run(const char *config_path, const char *only_service);

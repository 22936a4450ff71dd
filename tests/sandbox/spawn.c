// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * sandbox-spawn: processes and programs, as a shell or posix_spawn() makes
 * them: fork, vfork, posix_spawn, execve and its errors, pipes, inherited
 * and close-on-exec fds, wait4's statuses. The same lines natively and
 * under hostcall-run. "sandbox-spawn child N FD" is the program it runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "say.h"

extern char **environ;

static char self[PATH_MAX];

/* The child program: exit N; FD, if still open, says so. */
static int child(int n, int fd)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[len > 0 ? len : 0] = '\0';
	say("child %d: fd %d %s, /proc/self/exe %s\n", n, fd,
	    fcntl(fd, F_GETFD) < 0 ? "closed" : "open", strcmp(exe, self) ? exe : "is the program");
	return n;
}

static const char *status_of(int status)
{
	static char text[64];

	if (WIFEXITED(status))
		snprintf(text, sizeof(text), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(text, sizeof(text), "signal %d", WTERMSIG(status));
	else
		snprintf(text, sizeof(text), "status %#x", status);
	return text;
}

static const char *waited(pid_t pid)
{
	int status = 0;

	if (waitpid(pid, &status, 0) != pid)
		return strerror(errno);
	return status_of(status);
}

/* execve(@path) in a vfork child: its errno, as the parent sees it. */
static int exec_error(const char *path)
{
	volatile int err = 0;
	char *argv[] = { (char *)path, NULL };
	pid_t pid = vfork();

	if (!pid) {
		execve(path, argv, environ);
		err = errno;	/* the parent's variable: vfork shares memory */
		_exit(127);
	}
	waited(pid);
	return err;
}

static void run_child(const char *how, int n, int fd)
{
	char num[16], fdnum[16];
	char *argv[] = { "sandbox-spawn", "child", num, fdnum, NULL };
	pid_t pid;

	snprintf(num, sizeof(num), "%d", n);
	snprintf(fdnum, sizeof(fdnum), "%d", fd);
	if (!strcmp(how, "posix_spawn")) {
		int err = posix_spawn(&pid, self, NULL, NULL, argv, environ);

		check(!err, "posix_spawn: %s", strerror(err));
	} else {
		pid = !strcmp(how, "vfork") ? vfork() : fork();
		if (!pid) {
			execve("/proc/self/exe", argv, environ);
			_exit(126);
		}
	}
	say("%s, execve: %s\n", how, waited(pid));
}

int main(int argc, char **argv)
{
	int fds[2], open_fd, cloexec_fd, err;
	char line[64], *missing[] = { "/no/such/program", NULL };
	pid_t pid;

	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		return 1;
	if (argc == 4 && !strcmp(argv[1], "child"))
		return child(atoi(argv[2]), atoi(argv[3]));

	/* fork: the child's exit status and death by signal, its own memory */
	static int shared = 1;
	pid = fork();
	if (!pid) {
		shared = 2;
		_exit(shared + 5);
	}
	say("fork: %s, parent's copy %d\n", waited(pid), shared);
	pid = fork();
	if (!pid) {
		raise(SIGTERM);
		_exit(1);
	}
	say("fork, raise(SIGTERM): %s\n", waited(pid));

	/* vfork: the child's writes are the parent's, until it executes */
	pid = vfork();
	if (!pid) {
		shared = 3;
		_exit(4);
	}
	say("vfork: %s, parent sees %d\n", waited(pid), shared);
	/* a vfork child killed before it executes: the parent goes on */
	pid = vfork();
	if (!pid) {
		raise(SIGKILL);
		_exit(1);
	}
	say("vfork, the child killed: %s\n", waited(pid));

	/* pipes across fork, as a shell's pipeline */
	if (pipe(fds) < 0)
		return 1;
	pid = fork();
	if (!pid) {
		close(fds[0]);
		dprintf(fds[1], "through the pipe");
		_exit(0);
	}
	close(fds[1]);
	err = read(fds[0], line, sizeof(line) - 1);
	line[err > 0 ? err : 0] = '\0';
	close(fds[0]);
	say("pipe: \"%s\", %s\n", line, waited(pid));

	/* execve: an inherited fd stays open, a close-on-exec one does not */
	open_fd = open("/dev/null", O_RDONLY);
	cloexec_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	run_child("fork", 3, open_fd);
	run_child("vfork", 4, cloexec_fd);
	run_child("posix_spawn", 5, open_fd);

	/* what execve refuses, and posix_spawn reports */
	say("execve of a missing file: %s\n", strerror(exec_error("/no/such/program")));
	say("execve of a directory: %s\n", strerror(exec_error("/")));
	say("execve of a file not executable: %s\n", strerror(exec_error("/proc/self/status")));
	err = open("plain-file", O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (err < 0 || write(err, "plain text\n", 11) != 11 || close(err) < 0)
		return 1;
	say("execve of a file that is no program: %s\n", strerror(exec_error("./plain-file")));
	err = posix_spawn(&pid, "/no/such/program", NULL, NULL, missing, environ);
	say("posix_spawn of a missing file: %s\n", strerror(err));
	return failures != 0;
}

/*
 * confvalue.c - the values of kdrelay.conf keys: numbers, booleans, crlf
 * modes, sizes, directories and %n templates.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_impl.h"

int
conf_why(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return (-1);
}

int
conf_parse_uint(const char *v, unsigned long long lo, unsigned long long hi,
    unsigned long long *out)
{
	unsigned long long	n = 0;

	if (*v == '\0')
		return (-1);
	for (; *v != '\0'; v++) {
		if (!isdigit((unsigned char)*v))
			return (-1);
		n = n * 10 + (unsigned)(*v - '0');
		if (n > hi)
			return (-1);
	}
	if (n < lo)
		return (-1);
	*out = n;
	return (0);
}

static int
parse_bool(const char *v, int *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t	i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return (*out = 1, 0);
		if (strcasecmp(v, no[i]) == 0)
			return (*out = 0, 0);
	}
	return (-1);
}

int
conf_bool_value(const char *v, int *out, char *w, size_t wl)
{
	if (parse_bool(v, out) == -1)
		return (conf_why(w, wl, "expected yes or no, not '%s'", v));
	return (0);
}

int
conf_crlf_value(const char *v, int *out, char *w, size_t wl)
{
	enum crlf_mode	m;

	if (crlf_mode_parse(v, &m) == -1)
		return (conf_why(w, wl, "expected on, off or auto, not '%s'",
		    v));
	*out = m;
	return (0);
}

int
conf_hold_value(const char *v, long *out, char *w, size_t wl)
{
	unsigned long long	n;

	if (conf_parse_uint(v, CONFIG_HOLD_MIN, CONFIG_HOLD_MAX, &n) == -1)
		return (conf_why(w, wl, "expected milliseconds from %d to %d, "
		    "not '%s'", CONFIG_HOLD_MIN, CONFIG_HOLD_MAX, v));
	*out = (long)n;
	return (0);
}

int
conf_size_value(const char *v, long long *out, char *w, size_t wl)
{
	char			 num[32];
	size_t			 n = strlen(v);
	unsigned long long	 mult = 1, x;

	if (n > 0 && n < sizeof num && (v[n - 1] == 'k' || v[n - 1] == 'K'))
		mult = 1024;
	else if (n > 0 && n < sizeof num && v[n - 1] == 'M')
		mult = 1024 * 1024;
	if (mult != 1)
		n--;
	if (n == 0 || n >= sizeof num)
		goto bad;
	memcpy(num, v, n);
	num[n] = '\0';
	if (conf_parse_uint(num, 1, CONFIG_BUFSIZE_MAX, &x) == -1)
		goto bad;
	x *= mult;
	if (x < CONFIG_BUFSIZE_MIN || x > CONFIG_BUFSIZE_MAX)
		goto bad;
	*out = (long long)x;
	return (0);
bad:
	return (conf_why(w, wl, "expected bytes from 4096 to 16M (suffix k "
	    "or M), not '%s'", v));
}

int
conf_dir_value(const char *v, char *out, char *w, size_t wl)
{
	if (*v != '/')
		return (conf_why(w, wl, "expected an absolute directory, not "
		    "'%s'", v));
	if (strlen(v) >= PATH_MAX)
		return (conf_why(w, wl, "path too long"));
	strcpy(out, v);
	return (0);
}

int
conf_dup_str(char **dst, const char *v, char *w, size_t wl)
{
	if ((*dst = strdup(v)) == NULL)
		return (conf_why(w, wl, "%s", strerror(errno)));
	return (0);
}

/* A template: %n and %% only, and %n at least once. */
int
conf_template_value(const char *v, char *out, size_t len, char *w, size_t wl)
{
	const char	*s;
	int		 has_n = 0;

	for (s = v; (s = strchr(s, '%')) != NULL; s += 2) {
		if (s[1] == 'n')
			has_n = 1;
		else if (s[1] != '%')
			return (conf_why(w, wl, "only %%n and %%%% may follow "
			    "%% in '%s'", v));
	}
	if (!has_n)
		return (conf_why(w, wl, "expected a template with %%n (the VM "
		    "name), not '%s'", v));
	if (strlen(v) >= len)
		return (conf_why(w, wl, "template too long"));
	strcpy(out, v);
	return (0);
}

/* fmt.c: printf subset and number parsing (see fmt.h). */
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "shim.h"

struct out {
	char *buf;
	size_t size;
	size_t len;	/* untruncated */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_field(struct out *o, const char *s, size_t n, int width, int left, char padc)
{
	int fill = width > (int)n ? width - (int)n : 0;

	if (!left)
		pad(o, padc, fill);
	while (n--)
		put(o, *s++);
	if (left)
		pad(o, ' ', fill);
}

int shim_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		char num[24], padc = ' ';
		int left = 0, width = 0, prec = -1, lng = 0, base = 10, neg = 0;
		unsigned long long v;
		const char *s;
		size_t n;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				padc = '0';
			else if (*fmt == '-')
				left = 1;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					prec = prec * 10 + (*fmt++ - '0');
			}
		}
		for (; *fmt == 'l' || *fmt == 'z'; fmt++)
			lng += *fmt == 'z' ? 2 : 1;
		switch (*fmt) {
		case '\0':
			fmt--;
			continue;
		case '%':
			put(&o, '%');
			continue;
		case 'c':
			num[0] = (char)va_arg(ap, int);
			put_field(&o, num, 1, width, left, ' ');
			continue;
		case 's':
			s = va_arg(ap, const char *);
			if (s == NULL)
				s = "(null)";
			n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
			put_field(&o, s, n, width, left, ' ');
			continue;
		case 'd':
		case 'i': {
			long long sv = lng >= 2 ? va_arg(ap, long long) :
			    lng == 1 ? va_arg(ap, long) : va_arg(ap, int);

			neg = sv < 0;
			v = neg ? 0ULL - (unsigned long long)sv : (unsigned long long)sv;
			break;
		}
		case 'x':
			base = 16;
			/* fall through */
		case 'u':
			v = lng >= 2 ? va_arg(ap, unsigned long long) :
			    lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			break;
		default:	/* unsupported: print it as is */
			put(&o, '%');
			put(&o, *fmt);
			continue;
		}
		n = sizeof(num);
		do {
			num[--n] = "0123456789abcdef"[v % (unsigned)base];
			v /= (unsigned)base;
		} while (v);
		if (neg) {
			if (padc == '0') {	/* the sign goes before the zeros */
				put(&o, '-');
				width--;
			} else {
				num[--n] = '-';
			}
		}
		put_field(&o, num + n, sizeof(num) - n, width, left, left ? ' ' : padc);
	}
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int shim_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = shim_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int shim_parse_u64(const char *s, const char **end, unsigned long long *out)
{
	unsigned long long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (~0ULL - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	if (end != NULL)
		*end = p;
	return 0;
}

char *shim_concat(const char *a, const char *b, const char *c)
{
	static char arena[16384];	/* pages are touched only as far as used */
	static size_t used;
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *p;

	if (la + lb + lc + 1 > sizeof(arena) - used)
		return NULL;
	p = arena + used;
	memcpy(p, a, la);
	memcpy(p + la, b, lb);
	memcpy(p + la + lb, c, lc + 1);
	used += la + lb + lc + 1;
	return p;
}

void shim_puts(int fd, const char *s)
{
	(void)shim_write_all(fd, s, strlen(s));
}

struct civil {
	int year, mon, mday, hour, min, sec;
};

/* Seconds since the epoch to a UTC date (days-to-civil); gmtime_r would link the tz code. */
static void utc(long long t, struct civil *c)
{
	long long days = t / 86400, secs = t % 86400, era, doe, yoe, doy, mp;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	c->hour = (int)(secs / 3600);
	c->min = (int)(secs / 60 % 60);
	c->sec = (int)(secs % 60);
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->year = (int)(yoe + era * 400 + (c->mon <= 2));
}

void shim_time_format(unsigned long long ns, char buf[SHIM_TIME_LEN])
{
	struct civil tm;

	utc((long long)(ns / 1000000000ULL), &tm);
	shim_snprintf(buf, SHIM_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.year, tm.mon,
	    tm.mday, tm.hour, tm.min, tm.sec, (unsigned)(ns % 1000000000ULL));
}

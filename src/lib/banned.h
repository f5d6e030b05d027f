/* Functions that must not be used in Parley: each has a bounded or safer replacement. */
#ifndef PARLEY_BANNED_H
#define PARLEY_BANNED_H

#define PL__BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) PL__BANNED(strcpy)
#undef strcat
#define strcat(x, y) PL__BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) PL__BANNED(strncpy)
#undef sprintf
#define sprintf(...) PL__BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) PL__BANNED(vsprintf)
#undef strtok
#define strtok(x, y) PL__BANNED(strtok)
#undef atoi
#define atoi(x) PL__BANNED(atoi)
#undef atol
#define atol(x) PL__BANNED(atol)
#undef sscanf
#define sscanf(...) PL__BANNED(sscanf)
#undef gmtime
#define gmtime(x) PL__BANNED(gmtime)
#undef localtime
#define localtime(x) PL__BANNED(localtime)
#undef gets
#define gets(x) PL__BANNED(gets)

#endif

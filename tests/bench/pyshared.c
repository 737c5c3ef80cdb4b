/*
 * pyshared.c: `python3`, but running from libpython3.11.so (the library the
 * embedded interpreter of libjobreg is), not from Debian's statically linked
 * /usr/bin/python3.11. The shared library runs the same Python code markedly
 * slower (position-independent code, another PGO/LTO build), so this is the
 * fair baseline for timings of libjobreg: the very same interpreter, with
 * none of the library around it. Used by bench_sync.
 *
 * usage: pyshared [python options and arguments]   (as python3)
 */
#include <Python.h>

int main(int argc, char **argv)
{
	return Py_BytesMain(argc, argv);
}

#!/bin/sh
# Doxygen INPUT_FILTER (docs/Doxyfile): a public header opens with a plain
# comment that says what the file is about; Doxygen documents a file's
# functions only when the file itself is documented, so that opening "/*"
# is shown to Doxygen as "/** @file". The headers themselves stay as they are.
exec sed -e '1s|^/\*$|/** @file|' "$1"

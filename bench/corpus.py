#!/usr/bin/env python3
"""Generates the standard SSG benchmark corpus: N Markdown files of about 845 bytes each,
front matter with only a title, three lorem-ipsum paragraphs.

usage: corpus.py DIR N [--toml|--yaml]
"""
import os
import sys

PARAS = [
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
    "Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.",
    "Curabitur pretium tincidunt lacus. Nulla gravida orci a odio. Nullam varius, turpis et commodo pharetra, est eros bibendum elit, nec luctus magna felis sollicitudin mauris. Integer in mauris eu nibh euismod gravida. Duis ac tellus et risus vulputate vehicula.",
]


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    body = "\n\n".join(PARAS) + "\n"
    for i in range(n):
        with open(os.path.join(out, f"page-{i:06d}.md"), "w") as f:
            f.write(f'+++\ntitle = "Page {i}"\n+++\n\n{body}')


if __name__ == "__main__":
    main()

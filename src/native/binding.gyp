# The libpcap binding for live capture, built by build.mjs at install time.
{
  'targets': [
    {
      'target_name': 'tunscope_pcap',
      'sources': ['pcap.c', 'devices.c', 'helpers.c', 'netns.c'],
      'cflags': ['-Wall', '-Wextra', '-Wno-unused-parameter'],
      'link_settings': {'libraries': ['-lpcap']},
    },
  ],
}

def whisper(s):
    return s.lower()

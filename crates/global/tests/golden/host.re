/^mail\./ yes

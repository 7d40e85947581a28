from restyle.cli import main

main()

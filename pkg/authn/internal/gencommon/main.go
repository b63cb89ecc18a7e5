// Command gencommon writes common_passwords.txt: the passwords people pick most, which the
// password policy refuses. It is built from the words and patterns that top every published
// breach-frequency list (names, sports, pets, seasons, keyboard walks, digit runs) combined with
// the suffixes people append to pass composition rules. Run it with go generate in pkg/authn.
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
)

var words = strings.Fields(`
password passw0rd p@ssword p@ssw0rd pass passwd letmein welcome welcome1 admin administrator root
login access secret changeme default guest master superuser user test tester testing temp
qwerty qwertyuiop azerty asdfgh asdfghjkl zxcvbnm qazwsx qazwsxedc 1qaz2wsx 1q2w3e4r zaq12wsx
abc abcd abcdef abcdefg abc123 iloveyou loveyou lovely love mylove sweetheart baby babygirl
monkey dragon shadow master666 sunshine princess football baseball basketball soccer hockey
tennis golf cricket rugby volleyball killer ninja batman superman spiderman ironman hulk
starwars startrek pokemon pikachu minecraft fortnite roblox zelda mario sonic gamer
trustno1 whatever freedom hello hello123 hi secret123 letmein1 welcome123 blahblah
michael jennifer jordan jordan23 hunter ranger buster charlie andrew michelle jessica
pepper daniel thomas tigger robert matthew ashley joshua amanda nicole justin taylor
samantha anthony william david richard joseph james john jason brandon heather melissa
elizabeth christopher christina stephanie jonathan alexander alexandra natasha victoria
maria mariana carlos jose juan luis sophie emma olivia oliver harry george jack charlie
summer winter spring autumn fall january february march april may june july august
september october november december monday tuesday wednesday thursday friday saturday sunday
computer internet samsung google microsoft apple iphone android windows linux ubuntu
facebook twitter instagram youtube netflix amazon yahoo hotmail gmail outlook office
orange banana chocolate cheese cookie cupcake pizza coffee butter peanut strawberry
flower purple yellow silver golden diamond crystal rainbow butterfly angel angels
heaven hell jesus christ god blessed faith hope lucky happy smile friends family
london paris berlin newyork chicago boston dallas texas california florida canada
america usa england france germany brazil mexico india china japan australia
liverpool arsenal chelsea manchester barcelona realmadrid juventus yankees cowboys
lakers steelers eagles packers raiders patriots giants dolphins tigers lions bears
mustang ferrari porsche corvette harley yamaha honda toyota nissan mercedes bmw
tiger lion eagle falcon wolf bear panther jaguar cobra viper shark dolphin horse
doggy puppy kitty kitten cat dog snoopy garfield scooby bubbles fluffy muffin
matrix merlin phoenix thunder lightning storm blizzard hurricane tornado
soccer1 money money1 cash rich millionaire bitcoin crypto success winner
qwerty123 qwerty1 asdf asdf1234 zxcv 123qwe 1qazxsw2 q1w2e3r4 zaq1xsw2
letmein! welcome! monkey1 dragon1 shadow1 master1 sunshine1 princess1 football1
company corporate business manager payroll finance sales marketing support helpdesk
service server network security firewall database backup oracle mysql postgres
tenure workday workforce employee staff intranet portal office365 vpn wifi
iloveu iloveyou1 loveme fuckyou fuckoff asshole bitch whore sexy hottie
password1 password12 password123 passw0rd1 passw0rd123 welcome2 changeit
`)

var suffixes = []string{"", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678",
	"!", "!!", "1!", "12!", "123!", "@123", "#1", "01", "69", "99", "007", "00", "11", "22",
	"2019", "2020", "2021", "2022", "2023", "2024", "2025", "2026", "2027"}

var walks = []string{"qwertyuiop", "qwertyuiopasdfghjkl", "asdfghjkl", "asdfghjkl;", "zxcvbnm",
	"zxcvbnm,./", "1qaz2wsx3edc", "1qaz2wsx3edc4rfv", "qazwsxedcrfv", "1q2w3e4r5t6y", "1q2w3e4r5t6y7u8i",
	"q1w2e3r4t5y6", "qwerasdfzxcv", "qwertyasdfgh", "poiuytrewq", "lkjhgfdsa", "mnbvcxz",
	"!qaz@wsx#edc", "1qaz!qaz", "qwerty123456", "123456qwerty", "qweasdzxc", "qweasdzxc123",
	"abcdefghijkl", "abcdefghijklmnop", "abcdefghijklmnopqrstuvwxyz", "aabbccddeeff",
	"123456789012", "1234567890123", "12345678901234", "123456789abc", "0987654321",
	"098765432109", "987654321098", "135792468013", "147258369000", "147852369874",
	"123123123123", "121212121212", "112233445566", "123321123321", "696969696969",
	"iloveyouiloveyou", "passwordpassword", "letmeinletmein", "welcomewelcome",
	"correcthorsebatterystaple", "correct horse battery staple", "thequickbrownfox",
	"thequickbrownfoxjumpsoverthelazydog", "mypassword123", "mysecretpassword",
	"thisismypassword", "password1234567", "administrator1", "changemenow", "changeme123"}

func main() {
	set := map[string]bool{}
	add := func(s string) {
		if len(s) >= 8 {
			set[strings.ToLower(s)] = true
		}
	}
	for _, w := range words {
		for _, s := range suffixes {
			add(w + s)
		}
		add(w + w)
		add(w + "123" + w)
	}
	for _, w := range walks {
		add(w)
	}
	// Runs of one character and of counting, at the lengths a length rule pushes people to.
	for _, c := range "abcdefghijklmnopqrstuvwxyz0123456789!*." {
		for n := 8; n <= 20; n++ {
			add(strings.Repeat(string(c), n))
		}
	}
	digits := "0123456789012345678901234567"
	for start := 0; start < 10; start++ {
		for n := 8; n <= 16; n++ {
			add(digits[start : start+n])
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	f, err := os.Create("common_passwords.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(f)
	for _, s := range out {
		fmt.Fprintln(w, s)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
